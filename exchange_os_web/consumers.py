"""A liveness WebSocket: proves the Channels stack end to end until the market streams arrive."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class PingConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content: dict, **kwargs: object) -> None:
        await self.send_json({"type": "pong", "echo": content.get("id")})
