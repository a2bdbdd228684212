"""The embedded default's file-system broker: a message appears in the queue folder only whole."""

import json
import os

from kombu import Connection

from config import broker


def folder_connection(folder) -> Connection:
    options = {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }
    for name in ("out", "control"):
        (folder / name).mkdir(exist_ok=True)
    return Connection("filesystem://localhost/", transport=broker.Transport, transport_options=options)


def test_a_published_message_is_never_visible_to_a_worker_before_it_is_written_whole(tmp_path, monkeypatch):
    seen_before_rename = []
    replace = os.replace

    def watched_replace(source, destination):
        seen_before_rename.append(sorted(os.listdir(tmp_path / "out")))
        replace(source, destination)

    monkeypatch.setattr(os, "replace", watched_replace)
    with folder_connection(tmp_path) as connection, connection.Producer() as producer:
        producer.publish({"answer": 42}, routing_key="sii", declare=[])

    (written,) = os.listdir(tmp_path / "out")
    assert written.endswith(".sii.msg")
    assert [name.rsplit(".", 1)[-1] for name in seen_before_rename[0]] == ["partial"]
    assert json.loads((tmp_path / "out" / written).read_text())["body"]


def test_a_consumer_of_the_folder_gets_the_message_back(tmp_path):
    with folder_connection(tmp_path) as connection:
        queue = connection.SimpleQueue("sii")
        queue.put({"answer": 42})

        assert queue.get(timeout=2).payload == {"answer": 42}
        queue.close()
