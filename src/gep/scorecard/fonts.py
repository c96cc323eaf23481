"""A CJK font for the maps and charts, from a file the project installs itself (never a system font).

Order: the file named by the environment variable ``GEP_CJK_FONT`` (a .ttf/.otf, or a .ttc collection with
``#INDEX`` appended to pick a face); then the Noto Sans CJK collection shipped by the PyPI package
``noto-cjk-sans-otc`` (face "Noto Sans CJK SC": simplified-Chinese glyph forms); then the Noto Sans CJK TC
font of ``cvttf-NotoSansCJK-Regular``. Matplotlib loads it by file name (``FontProperties(fname=...)``), so
charts look the same on every machine whatever fonts the system has.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from gep.core.errors import InputError

ENV_VAR = "GEP_CJK_FONT"
_FACE = "Noto Sans CJK SC"


def _collection_face(path: str, family: str) -> int:
    """Index of the face named ``family`` in a font collection (0 when not found)."""
    from matplotlib import ft2font

    n = ft2font.FT2Font(path).num_faces
    for i in range(n):
        if ft2font.FT2Font(path, face_index=i).family_name == family:
            return i
    return 0


def _with_face(path: str, index: int):
    import matplotlib.font_manager as fm

    font_path = getattr(fm, "FontPath", None)  # matplotlib ≥ 3.11 selects faces inside collections
    if font_path is None or index == 0:
        return path
    return font_path(path, index)


@functools.lru_cache(maxsize=1)
def cjk_font_file():
    """Path of the CJK font file (a matplotlib ``FontPath`` carrying the face index for collections)."""
    env = os.environ.get(ENV_VAR)
    if env:
        path, _, face = env.partition("#")
        if not Path(path).is_file():
            raise InputError(f"{ENV_VAR}={env}: font file does not exist; point it at a .ttf/.otf/.ttc file or "
                             "unset it to use the bundled Noto Sans CJK")
        return _with_face(path, int(face) if face.isdigit() else 0)
    try:
        import noto_cjk_sans_otc

        path = str(noto_cjk_sans_otc.FONT_PATH)
        return _with_face(path, _collection_face(path, _FACE))
    except ImportError:
        pass
    try:
        import cvttf_NotoSansCJK_Regular

        path = Path(cvttf_NotoSansCJK_Regular.__file__).parent / "NotoSansCJKtc-Regular.otf"
        if path.is_file():
            return str(path)
    except ImportError:
        pass
    raise InputError("no CJK font for the maps: install the Python package 'noto-cjk-sans-otc' (pip install "
                     f"noto-cjk-sans-otc) or set {ENV_VAR} to a .ttf/.otf font file with Chinese glyphs")


def cjk_font(size: float | None = None):
    """``matplotlib.font_manager.FontProperties`` of the CJK font, at ``size`` points."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=cjk_font_file(), size=size)


def mpl_text(text) -> str:
    """User text made safe for matplotlib: '$' would start mathtext (a region named 'a$b$' must print as is)."""
    return str(text).replace("$", r"\$")


__all__ = ["ENV_VAR", "cjk_font", "cjk_font_file", "mpl_text"]
