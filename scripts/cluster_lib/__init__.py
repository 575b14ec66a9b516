"""scripts/cluster as a library: a loopback deployment of Taskwell that tests can drive."""

from .cluster import Cluster, ComponentStatus
from .config import ClusterConfig
from .processes import ClusterError

__all__ = ["Cluster", "ClusterConfig", "ClusterError", "ComponentStatus"]
