"""How a mock service answers an allowed call: recorded, static, or a stateful collection."""

from __future__ import annotations

import copy
import json
from typing import Any

from harness.calls import Response
from harness.model import Answer, Service


class CollectionStore:
    """The mutable state of every stateful collection in one sandbox, with deterministic ids.

    Items are kept as JSON text: every answer parses a fresh copy (faster than a
    deep copy), so no caller can change the store through a response it was given.
    """

    def __init__(self, services: tuple[Service, ...]) -> None:
        self._services = services
        self.reset()

    def reset(self) -> None:
        self._items: dict[tuple[str, str], dict[str, str]] = {}
        self._next_id: dict[tuple[str, str], int] = {}
        self._prefix: dict[tuple[str, str], str] = {}
        for service in self._services:
            for name, collection in service.collections:
                key = (service.name, name)
                self._items[key] = {str(item["id"]): json.dumps(item) for item in collection.seed}
                self._next_id[key] = len(collection.seed) + 1
                self._prefix[key] = collection.id_prefix

    def answer(self, service: str, answer: Answer, params: dict[str, str], body: Any) -> Response:
        key = (service, answer.collection)
        items = self._items[key]
        if answer.action == "list":
            return Response(200, {"items": json.loads("[" + ",".join(items.values()) + "]")})
        if answer.action == "create":
            while True:
                new_id = f"{self._prefix[key]}{self._next_id[key]}"
                self._next_id[key] += 1
                if new_id not in items:
                    break
            item = {**(body if isinstance(body, dict) else {"value": body}), "id": new_id}
            items[new_id] = json.dumps(item)
            return Response(201, json.loads(items[new_id]))
        item_id = params.get(answer.id_param, "")
        if item_id not in items:
            return Response(404, {"error": "not_found", "id": item_id})
        if answer.action == "read":
            return Response(200, json.loads(items[item_id]))
        if answer.action == "update":
            current = json.loads(items[item_id])
            if isinstance(body, dict):
                current.update(body)
                current["id"] = item_id
            items[item_id] = json.dumps(current)
            return Response(200, json.loads(items[item_id]))
        del items[item_id]
        return Response(204)


def static_answer(answer: Answer) -> Response:
    return Response(answer.status, copy.deepcopy(answer.json), answer.headers)
