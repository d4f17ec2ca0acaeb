"""What each step of the official-SDK scripts must report, for steps both SDKs share.

The scripts (``tests/compat/scripts/``) give a step the same name in Python and in
JavaScript when it does the same thing; these tables hold the one expectation for it.
Query steps report the ``n`` field of what they found (items 0..9, seeded by
``seed_query_data``); only the steps in ``ORDERED`` depend on the server's order.
"""

ALL = list(range(10))

QUERIES = {
    "query_equal_to": [3],
    "query_equal_to_array_element": [0, 1, 2],
    "query_not_equal_to": [0, 1, 2, 4, 5, 6, 7, 8, 9],
    "query_less_than": [0, 1, 2],
    "query_greater_than": [8, 9],
    "query_less_than_or_equal_to": [0, 1, 2],
    "query_greater_than_or_equal_to": [8, 9],
    "query_contained_in": [1, 4],
    "query_not_contained_in": [8, 9],
    "query_contains_all": [0, 3, 6, 9],
    "query_size_equal_to": [0, 1, 2],
    "query_exists": [0, 1, 2, 3, 4],
    "query_does_not_exist": [5, 6, 7, 8, 9],
    "query_matches_regex": [0, 2, 4, 6, 8],
    "query_matches_regex_ignore_case": ALL,
    "query_contains": [1],
    "query_starts_with": [1, 3, 5, 7, 9],
    "query_ends_with": [9],
    "query_boolean": [1, 3, 5, 7, 9],
    "query_date_range": [8],  # item i is dated 2024-01-(i+1); (Jan 8, Jan 9]
    "query_pointer_equal": [5, 6, 7, 8, 9],
    "query_missing_class": [],
    "query_descending_limit": [9, 8, 7],
    "query_two_orders": [9, 7, 5, 3, 1, 8, 6, 4, 2, 0],
    "query_skip_limit": [2, 3, 4],
    "query_or": [0, 1, 9],
    "query_and": [3, 4],
    "query_matches_query": [5, 6, 7, 8, 9],
    "query_does_not_match_query": [0, 1, 2, 3, 4],
    "query_matches_key_in_query": [3, 7],
    "query_does_not_match_key_in_query": [0, 1, 2, 4, 5, 6, 8, 9],
    "query_near": [0, 1, 2],
    "query_within_radians": [0, 1],  # (1, 1) is 0.0247 rad from (0, 0), (2, 2) 0.0494
    "query_within_miles": [0, 1, 2],  # 200 mi = 322 km; (2, 2) is 314 km away
    "query_within_kilometers": [0, 1],  # (1, 1) is 157 km away
    "query_within_geo_box": [1, 2, 3],
    "query_count": 5,
    "query_first": 9,
    "query_get": 4,
    "query_include": "second",
    "get_from_missing_class": 101,
    "fetch_with_keys": {"n": 6, "name": False, "owner": "second"},
    "query_scan": ALL,
}

ORDERED = {"query_descending_limit", "query_two_orders", "query_skip_limit", "query_near"}

OBJECTS = {
    "server_time": {"aware": True, "close": True},
    "save_and_fetch": {
        "id_matches": True,
        "created_at_is_date": True,
        "title": "hello",
        "views": 1,
        "tags": ["a"],
        "when": True,
        "meta": {"k": [1, 2], "nested": {"ok": True}},
        "place": [10, 20],
    },
    "update_operations": {
        "views": 3,
        "tags": ["a", "b"],
        "labels": ["x", "y"],
        "junk": ["q"],
        "band": 8,  # 12 & 10
        "bor": 15,  # 12 | 3
        "bxor": 6,  # 12 ^ 10
    },
    "fetch_when_save": 14,  # 3 + someone else's 10 + our 1
    "conditional_save": {"mismatch": 305, "stored": "matched"},
    "unset_field": False,
    "destroy": 0,
    "pointer_saved_with_parent": {"child_saved": True, "class": "Tag", "name": "child"},
    "save_all_destroy_all": {"ids": True, "saved": 3, "left": 0},
    "save_all_updates": [["after", 10], ["after", 11]],
    "batch_error": 111,  # a string where the schema has a number
    "seed_query_data": 10,
}

RELATIONS = {
    "relations": {
        "related": ["blue", "red"],
        "reverse": [True],
        "after_remove": ["blue"],
        "field_type": "Relation",
        "target": "Tag",
    },
}

USERS = {
    # Both SDKs drop the password from the user object once it is saved.
    "user_sign_up": {"token": True, "current": True, "password_kept": False, "nickname": "Ann"},
    "user_is_authenticated": {"valid": True, "stale_token": False},
    "user_sign_up_taken_name": 202,
    "user_log_in": {"same_user": True, "current": True, "token": True},
    "user_log_in_wrong_password": 210,
    "user_become": {"same_user": True, "username": True},
    "user_become_bad_token": 211,
    "user_query_hides_password": [["username"]],
    "user_update_own_field": "Annie",
    "user_update_other_user": 206,
    "user_update_password": {"new_token": True, "relogin": True, "old_password": 210},
    "user_update_password_wrong_old": 210,
    "user_refresh_session_token": {"changed": True, "old_rejected": 211, "new_works": True},
    "user_logout": True,
    "acl_user_only": {
        "owner": 1,
        "other": 0,
        "other_write": 403,
        "anonymous": 0,
        "master": 1,
        "acl_read": [True, False],
    },
    "acl_public_read": {"read": "secret", "other_destroy": 403, "left": 0},
    "acl_role": {"member": 1, "non_member": 0},
    "user_roles": {"member": True, "others": 1},
    "user_auth_data": {"same_user": True, "token": True, "username": True, "current": True},
    "friendship": {"followees": [True], "followers": [True], "after_unfollow": 0},
}

CQL = {
    "cql": {"n": [0, 1, 2], "class": "Item"},
    "cql_count": {"count": 5, "results": 0},
}
FILES = {
    "files": {"name": "hello.txt", "size": 12, "content": "hello, world", "left": 0},
    "external_file": {"name": "logo.png", "url": True},
}

SHARED = {**OBJECTS, **QUERIES, **RELATIONS, **USERS, **CQL, **FILES}

# Steps that need a server area which may not exist yet: the (method, path) of its route.
OPTIONAL = {
    "cql": ("GET", "/1.1/cloudQuery"),
    "cql_count": ("GET", "/1.1/cloudQuery"),
    "files": ("POST", "/1.1/fileTokens"),
    "external_file": ("POST", "/1.1/files"),
}


def comparable(name, value):
    """Query results as a sorted list, unless the step is about order."""
    if name in QUERIES and name not in ORDERED and isinstance(value, list):
        return sorted(value)
    return value
