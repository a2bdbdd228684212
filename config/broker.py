"""kombu's file-system transport (the embedded default's broker), writing each message whole."""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:  # type: ignore[override]  # kombu's two bases disagree; this is filesystem.Channel's
        """Write the message under a name no reader matches, then rename it into place.

        kombu creates the file, then locks and writes it, so a worker polling the folder could
        read it empty and crash on the JSON (celery/kombu#1551). A rename is atomic.
        """
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.partial"  # "*.msg.partial" is no queue's "*.<queue>.msg"
        try:
            with open(partial, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
