"""The search index follows the database: the datasets CKAN indexed or removed
during a rolled-back run are put back as the database has them, through CKAN's
own search API (``ckan.lib.search.rebuild`` for a dataset that exists,
``delete_package`` for one that does not)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ckansig.errors import exc_text

if TYPE_CHECKING:
    from ckansig.firing.guard import Guard

__all__ = ["restore_search_index", "watch_search_index"]


def watch_search_index(guard: Guard) -> None:
    """Note, in ``guard.search_ids``, every dataset CKAN's search index is
    told to index or to remove while the guard lasts."""
    try:
        from ckan.lib.search.index import PackageSearchIndex
    except ImportError:  # no CKAN search here
        return

    def noting(what: str) -> Any:
        def make(original: Any) -> Any:
            def wrapper(index: Any, pkg_dict: Any, *args: Any, **kwargs: Any) -> Any:
                if isinstance(pkg_dict, Mapping) and pkg_dict.get("id"):
                    guard.search_ids[str(pkg_dict["id"])] = what
                return original(index, pkg_dict, *args, **kwargs)
            return wrapper
        return make

    guard.patch(PackageSearchIndex, "index_package", noting("indexed"))
    guard.patch(PackageSearchIndex, "delete_package", noting("removed"))


def restore_search_index(guard: Guard) -> None:
    """After the rollback: reindex each noted dataset the database still has,
    remove from the index each it no longer has. A failure is a breach."""
    if not guard.search_ids:
        return
    from ckan import model
    from ckan.lib import search

    from ckansig.firing.guard import Breach

    verdict = guard.verdict
    for package_id in sorted(guard.search_ids):
        try:
            exists = model.Session.query(model.Package.id).filter(
                model.Package.id == package_id).first() is not None
            if exists:
                search.rebuild(package_id=package_id)
                verdict.search.append(f"{package_id}: reindexed from the database")
            else:
                search.index_for(model.Package).delete_package({"id": package_id})
                verdict.search.append(f"{package_id}: removed (not in the database)")
        except Exception as exc:  # Solr down, or CKAN's indexing failed
            verdict.search_error = exc_text(exc)
            verdict.breaches.append(Breach(None, f"left the search index changed for dataset "
                                           f"{package_id}: putting it back failed: "
                                           f"{exc_text(exc)}", None))
        finally:
            model.Session.remove()
