"""Every module of this package is a set of methods registered on import (rest.registry.method):
a helper adds a file here and nothing else. Imported once, by RestConfig.ready."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
