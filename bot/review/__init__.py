"""CIO補佐 review: access rules, the review desk, the weekly digest and its schedule.

The pieces, from the inside out:

* :mod:`bot.review.records` plain values (users, sheets, questions) the rest works on;
* :mod:`bot.core.policy` (in the core) the one policy deciding who may do what, plus the audit;
* :mod:`bot.review.store` the database through :mod:`storage`'s repository;
* :mod:`bot.review.desk` :class:`ReviewDesk`, what the core and the CLI call;
* :mod:`bot.review.port` :class:`ReviewChat`, the core's ``ReviewPort``;
* :mod:`bot.review.digest` the weekly digest, :mod:`bot.review.digest_render` its formats;
* :mod:`bot.review.scheduler` posts the digest once a week across replicas;
* :mod:`bot.review.users` registering users, roles and departments.

Example (wiring):
    >>> store = ReviewStore(database)                                      # doctest: +SKIP
    >>> review = ReviewChat(ReviewDesk(store, services.notifiers))         # doctest: +SKIP
    >>> scheduler = DigestScheduler(store, services.notifiers,
    ...     digest_targets(settings, store), cron=settings.digest_cron)    # doctest: +SKIP
"""

from bot.review.desk import ReviewDesk
from bot.review.port import ReviewChat
from bot.review.scheduler import (
    DigestScheduler,
    DigestTarget,
    digest_targets,
    targets_from_settings,
)
from bot.review.store import ReviewStore

__all__ = [
    "DigestScheduler",
    "DigestTarget",
    "ReviewChat",
    "ReviewDesk",
    "ReviewStore",
    "digest_targets",
    "targets_from_settings",
]
