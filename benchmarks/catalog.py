"""The benchmark's catalog: sii's four task types plus `bench.noop`, a trivial recorded task."""

from rest_framework import serializers

from benchmarks import tasks
from sii.catalog import CATALOG as SII_CATALOG
from tasks_api.params import TaskParamsSerializer
from tasks_api.registry import TaskType


class NoopParamsSerializer(TaskParamsSerializer):
    note = serializers.CharField(required=False, max_length=100)


CATALOG = (
    *SII_CATALOG,
    TaskType(
        name="bench.noop",
        description="Does nothing: the control plane's own cost per run (benchmarks only)",
        params=NoopParamsSerializer,
        task=tasks.noop,
    ),
)
