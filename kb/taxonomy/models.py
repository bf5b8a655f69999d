"""Theme, Tag, TagAlias and Region models."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import utcnow
from kb.extensions import Model


class Theme(Model):
    """A group of tags from the controlled vocabulary, e.g. "Procurement"."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    tags: Mapped[list[Tag]] = relationship(back_populates="theme", order_by="Tag.position")


class Tag(Model):
    """A normalised tag; belongs to a theme when it is part of the controlled vocabulary."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    theme: Mapped[Theme | None] = relationship(back_populates="tags")


class TagAlias(Model):
    """An earlier slug of a tag, left by a rename or a merge: its address and later imports lead to the tag."""

    __tablename__ = "tag_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    tag: Mapped[Tag] = relationship()


class Region(Model):
    """One region of the controlled list (`regions:` in the taxonomy file), with the other spellings it takes."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
