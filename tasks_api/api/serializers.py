"""The API's request and response shapes (the original service's contract), one serializer each."""

import re

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from tasks_api.params import RejectUnknownFields
from tasks_api.registry import TaskType, catalog
from tasks_api.states import STATUSES


class TaskParameterSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["string", "integer", "boolean"])
    required = serializers.BooleanField()  # type: ignore[assignment]  # the contract's key shadows Field.required
    default = serializers.JSONField(required=False)
    min = serializers.IntegerField(required=False)
    max = serializers.IntegerField(required=False)
    pattern = serializers.CharField(required=False)
    description = serializers.CharField(required=False)


class TaskTypeSerializer(serializers.Serializer):
    task_type = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    parameters = serializers.DictField(child=TaskParameterSerializer())


class TaskLaunchRequestSerializer(RejectUnknownFields, serializers.Serializer):
    """The launch body's envelope, {task_type, params}: the params are the catalog's to validate.

    Nothing else is accepted: Celery options (queue, eta, task_id, link ...) are the server's.
    """

    default_error_messages = {"invalid": "Request body must be a JSON object"}

    task_type = serializers.CharField(error_messages={"required": "task_type is required"})
    params = serializers.DictField(
        required=False, default=dict, error_messages={"not_a_dict": "params must be a JSON object"}
    )


class TaskLaunchedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    task_type = serializers.CharField()
    status = serializers.ChoiceField(choices=["PENDING"])
    message = serializers.CharField()


class TaskStatusSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    traceback = serializers.CharField(allow_null=True)
    meta = serializers.JSONField(allow_null=True)
    task_type = serializers.CharField(allow_null=True)
    params = serializers.JSONField(allow_null=True)
    unknown = serializers.BooleanField(help_text="True when nobody launched this id and no result exists.")
    launched_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class TaskRevokeQuerySerializer(serializers.Serializer):
    terminate = serializers.BooleanField(
        required=False,
        default=False,
        error_messages={"invalid": "terminate must be true or false"},
        help_text="Also kill the task if it is running (needs its own permission).",
    )


class TaskRevokedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["revoked"])
    terminate = serializers.BooleanField()
    message = serializers.CharField()
    children_revoked = serializers.IntegerField(
        help_text="Unfinished children of a fan-out parent revoked too."
    )


class CeleryStatsSerializer(serializers.Serializer):
    active_tasks = serializers.DictField(child=serializers.ListField(child=serializers.DictField()))
    scheduled_tasks = serializers.DictField(child=serializers.ListField(child=serializers.DictField()))
    registered_tasks = serializers.ListField(child=serializers.CharField())
    worker_stats = serializers.DictField(child=serializers.DictField())
    reserved_tasks = serializers.DictField(child=serializers.ListField(child=serializers.DictField()))
    queues = serializers.DictField(child=serializers.IntegerField(allow_null=True))
    workers_online = serializers.ListField(child=serializers.CharField())
    collected_at = serializers.DictField(
        child=serializers.DateTimeField(),
        help_text="When each worker took its snapshot; workers push one every few seconds.",
    )


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TaskAlreadyRunningSerializer(serializers.Serializer):
    detail = serializers.CharField()
    task_id = serializers.CharField(help_text="The run of this task type that is still pending or running.")


# django-celery-results' task_id column: no longer id can have a result, nor a launch record.
TASK_ID_MAX_LENGTH = 255
# Unicode's control characters (category Cc), as one pattern: every status poll checks its id.
CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def task_id_is_possible(task_id: str) -> bool:
    """Whether a task could have this id: at most 255 characters and no control characters (a
    NUL is not even storable in PostgreSQL)."""
    return len(task_id) <= TASK_ID_MAX_LENGTH and CONTROL_CHARACTER.search(task_id) is None


def launch_envelope(task_type: TaskType) -> type[serializers.Serializer]:
    """A typed launch body for one task type (for the OpenAPI oneOf): {task_type, params}.

    `params` may be left out (it defaults to {}) only when the type has no required parameter;
    otherwise leaving it out is refused (422) like any missing required parameter.
    """
    words = re.split(r"[._]", task_type.name)
    return type(
        "".join(word.title() for word in words) + "LaunchRequest",
        (RejectUnknownFields, serializers.Serializer),
        {
            "__module__": __name__,
            "__doc__": task_type.description,
            "task_type": serializers.ChoiceField(choices=[task_type.name]),
            "params": task_type.params(required=_has_required_params(task_type)),
        },
    )


def _has_required_params(task_type: TaskType) -> bool:
    return any(field.required for field in task_type.params().fields.values())


def launch_envelopes() -> dict[str, serializers.Serializer | type[serializers.Serializer]]:
    """One typed launch body per catalog task type, by name."""
    return {name: launch_envelope(task_type) for name, task_type in catalog().items()}


class StrictBodiesSchema(AutoSchema):
    """drf-spectacular's AutoSchema, saying what the API refuses: `additionalProperties: false`
    on the bodies whose serializer refuses unknown fields, and a polymorphic body (the launch's)
    required, since its discriminator field is."""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if isinstance(serializer, RejectUnknownFields):
            schema["additionalProperties"] = False
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        return schema, required or isinstance(serializer, PolymorphicProxySerializer)


class TaskRelaunchedSerializer(TaskLaunchedSerializer):
    relaunch_of = serializers.CharField(help_text="The run relaunched: same task type, same params.")


# Query strings: their errors answer 400, naming the parameter (tasks_api.api.run_views.query_validated).


class TaskStatusQuerySerializer(serializers.Serializer):
    wait = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=settings.TASKS_API_WAIT_MAX_SECONDS,
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value", "max_string_length"),
            f"must be a whole number of seconds from 0 to {settings.TASKS_API_WAIT_MAX_SECONDS}",
        ),
        help_text=(
            "Seconds to wait for the run to finish (SUCCESS, FAILURE or REVOKED) before answering; "
            "the answer comes as soon as it finishes. Without it (or 0) the answer is immediate."
        ),
    )
