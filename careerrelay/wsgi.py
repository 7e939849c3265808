from __future__ import annotations

import os

from careerrelay.core.wsgi import get_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careerrelay.settings.production")
application = get_application()
