"""The workflows of the permit service.

WORKFLOW_SHAPE_VERSION names the shape of the workflows' histories: the commands they issue, in order.
Until a release is deployed with applications running, a change of shape re-records the reference
histories under a new version (docs/versioning.md), and `make run` refuses local data of another shape.
"""

WORKFLOW_SHAPE_VERSION = "1.0.0"
