"""The WebSocket stack end to end: ASGI routing, the Redis channel layer, a consumer's reply."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from exchange_os_web.asgi import application


async def _ping() -> dict:
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=[(b"origin", b"http://localhost")])
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    await communicator.send_json_to({"id": 7})
    reply = await communicator.receive_json_from(timeout=10)
    await communicator.disconnect(timeout=10)
    return reply


@pytest.mark.django_db
def test_ping_socket_answers() -> None:
    assert async_to_sync(_ping)() == {"type": "pong", "echo": 7}


async def _layer_round_trip() -> dict:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "probe", "n": 1})
    return await layer.receive(channel)


@pytest.mark.django_db
def test_redis_channel_layer_delivers() -> None:
    assert async_to_sync(_layer_round_trip)() == {"type": "probe", "n": 1}
