"""How a mock service answers an allowed call: recorded, static, or a stateful collection."""

from __future__ import annotations

import copy
import json
from typing import Any

from harness.calls import Response
from harness.model import Answer, Service


def _normalised(value: Any) -> Any:
    """`value` as JSON would give it back (tuples as lists, keys as text), decoupled from
    the caller's objects."""
    return json.loads(json.dumps(value))


def copy_json(value: Any) -> Any:
    """A fresh copy of a value made only of JSON types (what `_normalised` returns): every
    dict and list is new, every scalar shared. Three to six times faster than
    `json.loads(json.dumps(value))`, which it equals on such values."""
    if type(value) is dict:
        return {
            key: copy_json(item) if type(item) is dict or type(item) is list else item
            for key, item in value.items()
        }
    if type(value) is list:
        return [
            copy_json(item) if type(item) is dict or type(item) is list else item for item in value
        ]
    return value


class CollectionStore:
    """The mutable state of every stateful collection in one sandbox, with deterministic ids.

    Items are stored as JSON would give them back (normalised once, when written) and
    never changed in place: an update stores a new item. Every answer is a fresh copy,
    so no caller can change the store through a response it was given.
    """

    def __init__(self, services: tuple[Service, ...]) -> None:
        self._services = services
        self._seeds = {
            (service.name, name): {str(item["id"]): _normalised(item) for item in collection.seed}
            for service in services
            for name, collection in service.collections
        }
        self.reset()

    def reset(self) -> None:
        self._items: dict[tuple[str, str], dict[str, Any]] = {}
        self._next_id: dict[tuple[str, str], int] = {}
        self._prefix: dict[tuple[str, str], str] = {}
        for service in self._services:
            for name, collection in service.collections:
                key = (service.name, name)
                self._items[key] = dict(self._seeds[key])  # the items are never changed
                self._next_id[key] = len(collection.seed) + 1
                self._prefix[key] = collection.id_prefix

    def answer(self, service: str, answer: Answer, params: dict[str, str], body: Any) -> Response:
        key = (service, answer.collection)
        items = self._items[key]
        if answer.action == "list":
            return Response(200, {"items": copy_json(list(items.values()))})
        if answer.action == "create":
            while True:
                new_id = f"{self._prefix[key]}{self._next_id[key]}"
                self._next_id[key] += 1
                if new_id not in items:
                    break
            item = {**(body if isinstance(body, dict) else {"value": body}), "id": new_id}
            items[new_id] = _normalised(item)
            return Response(201, copy_json(items[new_id]))
        item_id = params.get(answer.id_param, "")
        if item_id not in items:
            return Response(404, {"error": "not_found", "id": item_id})
        if answer.action == "read":
            return Response(200, copy_json(items[item_id]))
        if answer.action == "update":
            current = copy_json(items[item_id])
            if isinstance(body, dict):
                current.update(body)
                current["id"] = item_id
            items[item_id] = _normalised(current)
            return Response(200, copy_json(items[item_id]))
        del items[item_id]
        return Response(204)


def static_answer(answer: Answer) -> Response:
    return Response(answer.status, copy.deepcopy(answer.json), answer.headers)
