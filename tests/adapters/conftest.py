from tests.support_sandbox import sandbox, sandbox_server

__all__ = ["sandbox", "sandbox_server"]
