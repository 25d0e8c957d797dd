"""ckanext-ext: an extension that subscribes to core and custom signals."""
