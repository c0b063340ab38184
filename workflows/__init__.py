"""The permit application workflow.

`WORKFLOW_SHAPE_VERSION` names the commands the workflow issues, step by step (docs/versioning.md).
Until a release runs applications, a change of shape bumps it and re-records the reference histories;
data left by an older shape is cleared with `make clean-data`.
"""

WORKFLOW_SHAPE_VERSION = "1.4.0"

__all__ = ["WORKFLOW_SHAPE_VERSION"]
