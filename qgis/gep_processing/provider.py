"""The gep Processing provider: the algorithms of algorithms.py and the setting naming the gep executable."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider

from . import algorithms

SETTING = "GEP_EXECUTABLE"


def _config():
    try:  # the Processing plugin's settings (Processing → Options → Providers); absent in a bare QGIS
        from processing.core.ProcessingConfig import ProcessingConfig, Setting
    except ImportError:
        return None, None
    return ProcessingConfig, Setting


def gep_setting() -> str | None:
    """The provider setting GEP_EXECUTABLE (empty: not set)."""
    cfg, _ = _config()
    if cfg is None:
        return None
    value = cfg.getSetting(SETTING)
    return str(value).strip() if value else None


class GepProvider(QgsProcessingProvider):
    def id(self):
        return "gep"

    def name(self):
        return "gep 两山指数"

    def longName(self):  # noqa: N802 - QGIS's names
        return "gep: 两山指数 spatial indicators and GEP accounts"

    def load(self):
        cfg, setting = _config()
        if cfg is not None:
            cfg.settingIcons[self.name()] = self.icon()
            cfg.addSetting(setting(self.name(), SETTING,
                                   "gep executable (empty: GEP_EXECUTABLE, 'gep' on PATH, the repository's .venv)",
                                   "", valuetype=setting.FILE))
            cfg.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self):
        cfg, _ = _config()
        if cfg is not None:
            cfg.removeSetting(SETTING)

    def loadAlgorithms(self):  # noqa: N802
        for cls in algorithms.ALGORITHMS:
            self.addAlgorithm(cls())
