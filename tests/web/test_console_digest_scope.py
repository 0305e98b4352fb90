"""The digest page's SQL pre-selection gives exactly the digest of every sheet."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.review.desk import compile_digest
from bot.review.digest_render import render_json
from bot.review.store import ReviewStore
from bot.review.weeks import IsoWeek
from bot.web.digest_scope import week_digest
from storage import Database
from tests.review.review_fakes import Seeder
from tests.web.conftest import MOMENT

PATHS = [
    [], ["submitted"], ["submitted", "in_review"], ["submitted", "in_review", "returned"],
    ["submitted", "in_review", "returned", "submitted"],
    ["submitted", "in_review", "accepted"], ["submitted", "in_review", "accepted", "closed"],
]


def test_the_pre_selected_digest_equals_the_full_one(database: Database) -> None:
    chooser = random.Random(2026)
    seeder = Seeder(database)
    for number in range(80):
        created = MOMENT - timedelta(days=chooser.uniform(0, 90))
        path = chooser.choice(PATHS)
        moments = sorted(created + timedelta(days=chooser.uniform(0, 40)) for _ in path)
        moves = [(status, min(at, MOMENT)) for status, at in zip(path, moments, strict=True)]
        seeder.sheet(
            created_at=created, department=chooser.choice(["市民課", "総務課", "税務課"]),
            tenant=chooser.choice(["T1", "T1", "T2"]), business=f"相談 {number}",
            initial_cost=chooser.choice([None, 1_000_000, 4_500_000, 15_000_000]),
            outcomes={"dx_council_required": chooser.random() < 0.5}, moves=moves,
        )
    store = ReviewStore(database)
    week = IsoWeek.containing(MOMENT)
    compared = 0
    for _ in range(14):
        full = compile_digest(store, week, "T1", MOMENT)
        picked = week_digest(store, "T1", week, MOMENT)
        assert render_json(picked) == render_json(full), str(week)
        compared += len(full.new) + len(full.still_open) + len(full.accepted)
        week = week.previous()
    assert compared > 50  # the weeks compared were not empty
