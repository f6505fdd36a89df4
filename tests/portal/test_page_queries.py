"""Issue 19, item 9: the pages `bench portal` measures issue a fixed, small number of queries,
whatever the size of the request's history (no query per event, message, vote or row)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from datadsn.portal import services, threads
from datadsn.portal.models import ApiToken

from .conftest import World, filled_request


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm (first use of a session, content types…)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow(w: World) -> None:
    """More of everything the pages list: messages, events, requests, habilitations."""
    for r in (w.req["approved_a"], w.req["review_a"]):
        for n in range(3):
            threads.post(w.users["req_a"], r, f"Question {n}")
            threads.post(w.users["instructor"], r, f"Réponse {n}")
    u = w.users
    for n in range(3):
        r = filled_request(u["req_a"], f"Demande {n}")
        services.submit(u["req_a"], r)
        if n:  # two more current habilitations
            services.schedule(u["instructor"], r, w.session)
            services.vote(u["member"], r, "favorable", "")
            services.vote(u["member2"], r, "favorable", "")
            services.decide(u["chair"], r, True, "")
    for hab in (w.hab_a, w.hab_b):  # « puis renouvelée » was read by one query per habilitation
        services.renew(w.users["instructor"], hab, hab.end_date + timedelta(days=365))


# The expected counts: session, user, then what each page shows (the request was visible: the
# thread, its form and the edit rights do not ask again).
DETAIL = {
    # request; habilitations (with their renewal), messages, events
    ("req_a", "approved_a"): 6,
    # request; has she voted, votes for the tally; habilitations, messages, events
    ("chair", "review_a"): 8,
    # request; habilitations, séances to schedule, votes, messages, events
    ("instructor", "submitted_a"): 8,
}


@pytest.mark.parametrize(("role", "key"), list(DETAIL))
def test_request_detail_queries_do_not_grow(world: World, role: str, key: str) -> None:
    c = Client()
    c.force_login(world.users[role])
    url = f"/demandes/{world.req[key].pk}/"
    before = _queries(c, url)
    _grow(world)
    assert _queries(c, url) == before == DETAIL[(role, key)]


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("req_a", "/habilitations/"),
        ("req_a", "/tableau-de-bord/"),
        ("instructor", "/habilitations/"),
    ],
)
def test_habilitation_lists_queries_do_not_grow(world: World, role: str, path: str) -> None:
    c = Client()
    c.force_login(world.users[role])
    before = _queries(c, path)
    _grow(world)
    assert _queries(c, path) == before


@pytest.mark.parametrize("path", ["/api/demandes", "/api/habilitations"])
def test_api_lists_queries_do_not_grow(world: World, path: str) -> None:
    c = Client(headers={"Authorization": f"Bearer {ApiToken.issue(world.users['req_a'])}"})
    before = _queries(c, path)
    _grow(world)
    assert _queries(c, path) == before == 2  # the token (with its user), the list


@pytest.mark.parametrize("path", ["/", "/cas-usage/"])
def test_public_pages_queries(db: Any, path: str) -> None:
    assert _queries(Client(), path) <= 1
