"""Prometheus metrics; every owner takes the registry it registers on, no global default."""

from callcenter.metrics.acd_metrics import QUEUE_WAIT_BUCKETS, AcdMetrics
from callcenter.metrics.bridge_metrics import BridgeMetrics, RefusalReason

__all__ = ["QUEUE_WAIT_BUCKETS", "AcdMetrics", "BridgeMetrics", "RefusalReason"]
