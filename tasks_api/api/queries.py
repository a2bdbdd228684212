"""Query strings validated by a serializer: a bad value answers 400 with a sentence naming it."""

from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.request import Request


def query_validated(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """The validated parameters (the last value of a repeated one); unknown ones are ignored."""
    query = serializer_class(data=request.query_params.dict())
    if not query.is_valid():
        raise ParseError(
            "; ".join(
                _sentence(field, str(error)) for field, errors in query.errors.items() for error in errors
            )
        )
    return dict(query.validated_data)


def _sentence(field: str, message: str) -> str:
    # Our own messages say what the value must be ("must be one of ..."); DRF's are sentences.
    return f"{field} {message}" if message[:1].islower() else f"Invalid {field}: {message}"
