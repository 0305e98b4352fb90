"""CIO補佐 review: access rules, the review desk and the weekly digest.

The pieces, from the inside out:

* :mod:`bot.review.records` plain values (comments, memos, questions) shown with a sheet,
  which is storage's row (:class:`storage.models.ConsultationSheet`);
* :mod:`bot.core.policy` (in the core) the one policy deciding who may do what, plus the audit;
* :mod:`bot.review.store` sheets and the rest through :mod:`storage` (the queries:
  :mod:`storage.review_queries`);
* :mod:`bot.review.desk` :class:`ReviewDesk`, what the core and the CLI call;
* :mod:`bot.review.chat` the chat turns, :mod:`bot.review.port` :class:`ReviewChat`,
  the core's ``ReviewPort``;
* :mod:`bot.review.digest` the weekly digest, :mod:`bot.review.digest_render` its formats.

Beside it, named for what they do: :mod:`bot.users` (registering users, roles and
departments), :mod:`bot.digest_schedule` (posting the digest once a week across
replicas), :mod:`bot.core.links` (links to a sheet's conversation, formatted by the
channel adapters).

Example (wiring):
    >>> store = ReviewStore(database)                                      # doctest: +SKIP
    >>> review = ReviewChat(ReviewDesk(store, services.notifiers))         # doctest: +SKIP
    >>> scheduler = DigestScheduler(store, services.notifiers,
    ...     digest_targets(settings, store), cron=settings.digest_cron)    # doctest: +SKIP
"""

from bot.review.desk import ReviewDesk
from bot.review.port import ReviewChat
from bot.review.store import ReviewStore

__all__ = ["ReviewChat", "ReviewDesk", "ReviewStore"]
