"""The one typed settings object for soudan.

Read once at start-up (``Settings()``) and passed to whatever needs it; nothing else
in the code base reads ``os.environ``. Every field can be set through an environment
variable with the ``SOUDAN_`` prefix (or in a ``.env`` file); the Slack and Microsoft
credentials also accept the names their own documentation uses (``SLACK_BOT_TOKEN``,
``MICROSOFT_APP_ID`` ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SHARED = _PROJECT_ROOT.parent / "shared"

# Values people paste from examples; refusing them at start-up beats a confusing 401 later.
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "xxx", "secret", "your-secret", "todo", "dummy"}


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """設定 (settings). Defaults run everything embedded on one machine."""

    model_config = SettingsConfigDict(
        env_prefix="SOUDAN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- files and directories -------------------------------------------------
    data_dir: Path = Field(default=_PROJECT_ROOT / ".soudan")
    docs_dir: Path = Field(default=_SHARED / "corpus")
    corpus_catalog: Path | None = Field(
        default=None, description="YAML with citation titles; default: docs_dir/../corpus.yaml"
    )
    eval_questions: Path = Field(default=_SHARED / "eval" / "questions.dev.jsonl")
    flows_dir: Path = Field(default=_PROJECT_ROOT / "flows" / "definitions")
    tenant_flows: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description=(
            "flows offered per tenant (Slack team / Teams tenant / terminal tenant id): "
            "'T123=katsushika_operations;*=ict_adoption,rfi,outline'; '*' is every other "
            "tenant; empty = every loaded flow for everyone"
        ),
    )
    max_document_bytes: int = 20 * 1024 * 1024

    # --- knowledge ---------------------------------------------------------------
    embedding_model: str = Field(
        default="", description="sentence-transformers model name or path; empty = bundled e5"
    )
    chroma_url: str | None = None
    chroma_collection: str = "soudan-guidelines"
    top_k: int = 5

    # --- generated answers (optional): an OpenAI-compatible chat endpoint ---------------
    llm_base_url: str | None = Field(
        default=None,
        description=(
            "OpenAI-compatible endpoint (Azure OpenAI, vLLM, Ollama, llama.cpp server), "
            "e.g. http://127.0.0.1:11434/v1; empty = extractive answers only"
        ),
    )
    llm_model: str = Field(default="", description="model (or Azure deployment) name")
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(default=20.0, gt=0, description="seconds per request")
    llm_max_tokens: int = Field(default=512, gt=0, description="longest reply in tokens")

    # --- storage -----------------------------------------------------------------
    database_url: str | None = None
    message_max_chars: int = Field(
        default=4000, ge=100,
        description="longest message text kept in the transcript; longer ones are cut",
    )
    message_retention_days: int = Field(
        default=365, ge=0,
        description="transcript messages older than this are deleted (0 = keep forever)",
    )
    receipt_retention_hours: int = Field(
        default=72, ge=2,
        description=(
            "delivery receipts (which make a redelivered Slack/Teams event a no-op) older "
            "than this are forgotten; the channels retry within minutes"
        ),
    )
    repeat_reply_seconds: float = Field(
        default=10.0, ge=0,
        description=(
            "stale buttons and flow words (「確定」 after submitting) get at most one reply "
            "per this many seconds per conversation (0 = always reply)"
        ),
    )

    # --- server ------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 3000
    log_level: str = "INFO"
    timezone: str = "Asia/Tokyo"
    municipality: str = Field(
        default="",
        description=(
            "the municipality's name printed on the documents soudan drafts "
            "(情報提供依頼書（案）, 所管課概要案（案）), e.g. 木更津市; empty prints none"
        ),
    )
    inbox_lease_seconds: float = Field(
        default=15.0, gt=0,
        description=(
            "how long a replica holds a stored Slack/Teams event it is answering without "
            "renewing the claim; a crashed replica's events are taken over after this"
        ),
    )
    inbox_poll_seconds: float = Field(
        default=5.0, gt=0, description="how often each replica looks for stored events"
    )
    inline_turns: bool = Field(
        default=True,
        description=(
            "answer a Slack message before acknowledging it, in the transaction that "
            "stores it, when its conversation has nothing waiting; only without an LLM "
            "endpoint (the extractive answer takes well under a second, Slack waits 3 s)"
        ),
    )

    # --- web console (bot.web) ----------------------------------------------------------
    console_enabled: bool = Field(
        default=True, description="serve the web console under /console/ with the server"
    )
    console_base_url: str | None = Field(
        default=None,
        description=(
            "address of the console as users' browsers reach it, e.g. https://soudan.example.jp "
            "(sign-in links point there); empty = http://<host>:<port>"
        ),
    )
    console_secret: SecretStr | None = Field(
        default=None,
        description=(
            "key that signs sign-in links (the same on every replica); empty = a random key "
            "kept in <data_dir>/console-secret"
        ),
    )
    console_link_minutes: int = Field(
        default=10, ge=1, le=10, description="how long a sign-in link is valid (at most 10)"
    )
    console_session_hours: float = Field(
        default=8.0, gt=0, le=24, description="a console session ends this long after sign-in"
    )
    console_idle_minutes: float = Field(
        default=60.0, gt=0, description="a console session unused this long ends"
    )
    console_sign_in_per_minute: int = Field(
        default=10, ge=1, description="sign-in attempts allowed per client address per minute"
    )

    console_oidc_issuer: str | None = Field(
        default=None,
        description=(
            "OpenID Connect issuer for signing in to the console without a chat link, e.g. "
            "https://login.microsoftonline.com/<tenant id>/v2.0; empty = chat links only"
        ),
    )
    console_oidc_client_id: str = ""
    console_oidc_client_secret: SecretStr | None = None
    console_oidc_channel: str = Field(
        default="teams", description="the chat channel whose users the issuer's accounts are"
    )
    console_oidc_tenant_claim: str = Field(
        default="tid", description="ID token claim holding the tenant (Entra ID: tid)"
    )
    console_oidc_user_claim: str = Field(
        default="oid", description="ID token claim holding the chat user id (Entra ID: oid)"
    )

    outbox_retry_seconds: float = Field(
        default=15.0, gt=0,
        description=(
            "delay before a failed notice (review results) is posted again; it doubles "
            "with each failure, up to 30 minutes"
        ),
    )
    outbox_max_attempts: int = Field(
        default=10, gt=0,
        description="posts of one notice before it is listed as undeliverable",
    )
    outbox_poll_seconds: float = Field(
        default=5.0, gt=0, description="how often each replica looks for notices to post"
    )

    # --- Slack -------------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_BOT_TOKEN", "SOUDAN_SLACK_BOT_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=_alias("SLACK_SIGNING_SECRET", "SOUDAN_SLACK_SIGNING_SECRET"),
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_APP_TOKEN", "SOUDAN_SLACK_APP_TOKEN")
    )
    slack_api_base_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=_alias("SLACK_API_BASE_URL", "SOUDAN_SLACK_API_BASE_URL"),
    )
    slack_allowed_teams: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Other Slack team ids whose users count as members of the workspace "
            "(comma separated); anyone else from another workspace or enterprise "
            "(Slack Connect) may ask guideline questions but not use 相談シート"
        ),
    )

    # --- Microsoft Teams -----------------------------------------------------------
    microsoft_app_id: str = Field(
        default="", validation_alias=_alias("MICROSOFT_APP_ID", "SOUDAN_MICROSOFT_APP_ID")
    )
    microsoft_app_password: SecretStr | None = Field(
        default=None,
        validation_alias=_alias("MICROSOFT_APP_PASSWORD", "SOUDAN_MICROSOFT_APP_PASSWORD"),
    )
    microsoft_app_tenant_id: str = Field(
        default="",
        validation_alias=_alias("MICROSOFT_APP_TENANT_ID", "SOUDAN_MICROSOFT_APP_TENANT_ID"),
    )
    microsoft_app_type: str = Field(
        default="MultiTenant",
        validation_alias=_alias("MICROSOFT_APP_TYPE", "SOUDAN_MICROSOFT_APP_TYPE"),
    )
    teams_allow_anonymous: bool = False
    teams_tenants: Annotated[list[str], NoDecode] = Field(default_factory=list)
    teams_allowed_tenants: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Other Azure AD tenant ids whose users count as members of the tenant they "
            "write in (comma separated; `guest` admits invited guests whose own tenant "
            "Teams does not report); anyone else from another tenant (a shared channel, "
            "a cross-tenant chat) may ask guideline questions but not use 相談シート"
        ),
    )

    # --- review and digest -------------------------------------------------------------
    digest_cron: str = "0 9 * * 1"
    digest_slack_channel: str | None = None
    digest_teams_conversation: str | None = None

    @field_validator("teams_tenants", "slack_allowed_teams", "teams_allowed_tenants",
                     mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("tenant_flows", mode="before")
    @classmethod
    def _parse_tenant_flows(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        mapping: dict[str, list[str]] = {}
        for entry in value.split(";"):
            if not entry.strip():
                continue
            tenant, sep, flows = entry.partition("=")
            if not sep or not tenant.strip():
                raise ValueError(
                    "tenant_flows は「テナントID=フローID,フローID;*=フローID」の形で書いてください"
                )
            mapping[tenant.strip()] = [f.strip() for f in flows.split(",") if f.strip()]
        return mapping

    def flows_offered_to(self, tenant: str) -> list[str] | None:
        """The flow ids offered to ``tenant`` (its entry, else ``*``); None = every loaded flow."""
        if tenant in self.tenant_flows:
            return self.tenant_flows[tenant]
        return self.tenant_flows.get("*")

    @field_validator("llm_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_llm(self) -> Settings:
        if self.llm_base_url is None:
            return self
        if not self.llm_base_url.startswith(("http://", "https://")):
            raise ValueError("llm_base_url は http:// または https:// で始まる URL にしてください")
        if not self.llm_model.strip():
            raise ValueError(
                "llm_model が空です。SOUDAN_LLM_BASE_URL を使う場合はモデル名を設定してください"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        for name in ("slack_bot_token", "slack_signing_secret", "slack_app_token",
                     "microsoft_app_password", "llm_api_key", "console_secret",
                     "console_oidc_client_secret"):
            secret = getattr(self, name)
            if secret is not None and secret.get_secret_value().strip().lower() in (
                _PLACEHOLDER_SECRETS
            ):
                raise ValueError(f"{name} が例の値のままです。実際の値を設定してください")
        return self

    # --- derived paths -------------------------------------------------------------------
    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "soudan.db"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def bundled_model_dir(self) -> Path:
        return self.data_dir / "models" / "multilingual-e5-small"

    @property
    def effective_embedding_model(self) -> str:
        return self.embedding_model or str(self.bundled_model_dir)

    @property
    def effective_corpus_catalog(self) -> Path:
        return self.corpus_catalog or (self.docs_dir.parent / "corpus.yaml")

    @property
    def console_url(self) -> str:
        """Where browsers reach the console (no trailing slash), e.g. ``http://127.0.0.1:3000``."""
        if self.console_base_url:
            return self.console_base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def console_oidc_configured(self) -> bool:
        """True when the console also offers OpenID Connect sign-in."""
        return bool(self.console_oidc_issuer and self.console_oidc_client_id)

    @property
    def llm_configured(self) -> bool:
        """True when generated answers go through the configured chat endpoint."""
        return self.llm_base_url is not None

    @property
    def inline_turns_enabled(self) -> bool:
        """Whether turns are applied before the channel is acknowledged
        (``inline_turns``, and no LLM endpoint whose answers take seconds)."""
        return self.inline_turns and not self.llm_configured

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    @property
    def teams_configured(self) -> bool:
        return bool(self.microsoft_app_id) or self.teams_allow_anonymous
