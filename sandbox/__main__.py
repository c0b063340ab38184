"""Run the department sandbox: ``python -m sandbox`` (SANDBOX_HOST, SANDBOX_PORT)."""

import uvicorn

from sandbox.app import create_app
from sandbox.settings import SandboxSettings


def main() -> None:
    settings = SandboxSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
