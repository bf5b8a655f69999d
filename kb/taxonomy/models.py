"""Theme and Tag models."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
