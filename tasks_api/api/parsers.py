"""The API's JSON parser: a body nested too deeply to parse is a 400, not a RecursionError (500)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class GuardedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json's decoder recurses once per nesting level; Python's recursion limit is its floor.
            raise ParseError("JSON parse error - the body is nested too deeply") from None
