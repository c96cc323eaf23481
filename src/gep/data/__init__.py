"""Reference data shipped with gep: class schemes, GEP parameter tables, standards (read with importlib.resources)."""
