from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActivityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTIVITY_KIND_UNSPECIFIED: _ClassVar[ActivityKind]
    COMMENTS_SENT: _ClassVar[ActivityKind]
    COMMENTS_RECEIVED: _ClassVar[ActivityKind]
    LIKES_SENT: _ClassVar[ActivityKind]
    LIKES_RECEIVED: _ClassVar[ActivityKind]
ACTIVITY_KIND_UNSPECIFIED: ActivityKind
COMMENTS_SENT: ActivityKind
COMMENTS_RECEIVED: ActivityKind
LIKES_SENT: ActivityKind
LIKES_RECEIVED: ActivityKind

class FeedEntry(_message.Message):
    __slots__ = ("post_id", "author_id")
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    post_id: str
    author_id: int
    def __init__(self, post_id: _Optional[str] = ..., author_id: _Optional[int] = ...) -> None: ...

class GetFeedEntriesRequest(_message.Message):
    __slots__ = ("user_id", "limit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    limit: int
    def __init__(self, user_id: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class GetFeedEntriesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[FeedEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[FeedEntry, _Mapping]]] = ...) -> None: ...

class UserPost(_message.Message):
    __slots__ = ("post_id", "body", "created_at_ms")
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    post_id: str
    body: str
    created_at_ms: int
    def __init__(self, post_id: _Optional[str] = ..., body: _Optional[str] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class ListUserPostsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class ListUserPostsResponse(_message.Message):
    __slots__ = ("posts",)
    POSTS_FIELD_NUMBER: _ClassVar[int]
    posts: _containers.RepeatedCompositeFieldContainer[UserPost]
    def __init__(self, posts: _Optional[_Iterable[_Union[UserPost, _Mapping]]] = ...) -> None: ...

class PostCard(_message.Message):
    __slots__ = ("post_id", "author_id", "body", "created_at_ms", "like_count", "comment_count")
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LIKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    post_id: str
    author_id: int
    body: str
    created_at_ms: int
    like_count: int
    comment_count: int
    def __init__(self, post_id: _Optional[str] = ..., author_id: _Optional[int] = ..., body: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., like_count: _Optional[int] = ..., comment_count: _Optional[int] = ...) -> None: ...

class GetCardsRequest(_message.Message):
    __slots__ = ("post_ids",)
    POST_IDS_FIELD_NUMBER: _ClassVar[int]
    post_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, post_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCardsResponse(_message.Message):
    __slots__ = ("cards",)
    CARDS_FIELD_NUMBER: _ClassVar[int]
    cards: _containers.RepeatedCompositeFieldContainer[PostCard]
    def __init__(self, cards: _Optional[_Iterable[_Union[PostCard, _Mapping]]] = ...) -> None: ...

class UserProfile(_message.Message):
    __slots__ = ("user_id", "nickname", "follower_count")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    FOLLOWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    nickname: str
    follower_count: int
    def __init__(self, user_id: _Optional[int] = ..., nickname: _Optional[str] = ..., follower_count: _Optional[int] = ...) -> None: ...

class GetUsersRequest(_message.Message):
    __slots__ = ("user_ids",)
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class GetUsersResponse(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[UserProfile]
    def __init__(self, users: _Optional[_Iterable[_Union[UserProfile, _Mapping]]] = ...) -> None: ...

class ActivityItem(_message.Message):
    __slots__ = ("event_id", "post_id", "other_user_id", "body", "created_at_ms")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    OTHER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    post_id: str
    other_user_id: int
    body: str
    created_at_ms: int
    def __init__(self, event_id: _Optional[str] = ..., post_id: _Optional[str] = ..., other_user_id: _Optional[int] = ..., body: _Optional[str] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class ListActivityRequest(_message.Message):
    __slots__ = ("user_id", "kind")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    kind: ActivityKind
    def __init__(self, user_id: _Optional[int] = ..., kind: _Optional[_Union[ActivityKind, str]] = ...) -> None: ...

class ListActivityResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ActivityItem]
    def __init__(self, items: _Optional[_Iterable[_Union[ActivityItem, _Mapping]]] = ...) -> None: ...
