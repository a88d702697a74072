"""Powertools Logger, Metrics and Tracer shared by every function (service ``slotbook``).

Log lines never carry tokens: handlers do not log events, and the auth layer logs only key ids.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="slotbook")
metrics = Metrics(namespace="Slotbook", service="slotbook")
tracer = Tracer(service="slotbook")

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
