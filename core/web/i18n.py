"""Deprecated: translations moved to ``core.i18n`` (lower layers use them too). This name is the
same module, kept for plugins written against the older path."""

import sys
import warnings

from core import i18n

warnings.warn("core.web.i18n is deprecated: import core.i18n", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = i18n
