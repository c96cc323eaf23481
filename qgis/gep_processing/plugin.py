"""Registers the gep Processing provider when QGIS loads the plugin, removes it when unloaded."""

from qgis.core import QgsApplication

from .provider import GepProvider


class GepProcessingPlugin:
    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 - QGIS's names
        if self.provider is None:
            self.provider = GepProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
