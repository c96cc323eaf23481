"""QGIS plugin: a Processing provider running the project's own ``gep`` command (see provider.py)."""


def classFactory(iface):  # noqa: N802 - the name QGIS looks for
    from .plugin import GepProcessingPlugin

    return GepProcessingPlugin(iface)
