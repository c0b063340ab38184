import uvicorn

from config import get_settings
from config.logging import configure_logging

settings = get_settings()
configure_logging(development=settings.is_development, level=settings.log_level)
uvicorn.run("api.app:create_app", factory=True, host=settings.api_host, port=settings.api_port, log_config=None)
