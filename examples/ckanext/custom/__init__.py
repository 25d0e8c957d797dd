"""ckanext-custom: an extension that provides its own signal."""
