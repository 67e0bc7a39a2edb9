"""Drives Segment's and RudderStack's Python SDKs, unchanged and with their defaults, against the host in CDP_HOST.

Every message type for a few people, then flush and shutdown. Prints what was sent, and what failed, as JSON.
Usage: driver.py segment|rudder, with CDP_HOST, CDP_WRITE_KEY, CDP_RUN and CDP_PEOPLE in the environment.
"""

import json
import os
import sys
from datetime import datetime, timedelta, timezone

# A fixed past time with an offset: the stored original timestamp must be this instant.
ORDERED_AT = datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=timezone(timedelta(hours=2)))


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("segment", "rudder"):
        sys.exit(__doc__)
    sdk = sys.argv[1]
    host, write_key, run = os.environ["CDP_HOST"], os.environ["CDP_WRITE_KEY"], os.environ["CDP_RUN"]
    people = int(os.environ["CDP_PEOPLE"])
    failed = []
    failed_ids = set()

    def on_error(error, batch):
        failed.extend(f"{message['type']} {message['messageId']}: {error}" for message in batch)
        failed_ids.update(message["messageId"] for message in batch)

    if sdk == "segment":
        from segment.analytics import Client
    else:
        from rudderstack.analytics import Client
    client = Client(write_key, host=host, on_error=on_error)

    queued = []
    for person in range(people):
        user_id = f"{run}_user_{person}"
        anonymous_id = f"{run}_anon_{person}"
        calls = [
            client.identify(user_id, {"email": f"{user_id}@example.com", "plan": "pro"}),
            client.track(user_id, "Order Completed", {"revenue": 42, "currency": "EUR"}, timestamp=ORDERED_AT),
            client.page(anonymous_id=anonymous_id, name="Pricing", properties={"url": "https://example.com/pricing"}),
            client.screen(user_id, name="Home"),
            client.group(user_id, f"{run}_org_{person}", {"name": "Acme"}),
            client.alias(anonymous_id, user_id),
        ]
        for accepted, message in calls:
            if not accepted:
                sys.exit(f"the SDK refused a {message['type']} message")
            queued.append(message)
    client.flush()
    client.shutdown()

    sent = [
        {
            key: message[key]
            for key in ("messageId", "type", "userId", "anonymousId", "timestamp", "originalTimestamp")
            if message.get(key) is not None
        }
        for message in queued
        if message["messageId"] not in failed_ids
    ]
    json.dump({"sdk": sdk, "sent": sent, "failed": failed}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
