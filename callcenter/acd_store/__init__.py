"""Where the ACD's state lives: in this process, or shared by several through Redis."""

from callcenter.acd_store.local import LocalAcdStore
from callcenter.acd_store.store import AcdStore

__all__ = ["AcdStore", "LocalAcdStore"]
