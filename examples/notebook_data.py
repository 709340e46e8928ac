"""A service's table, bucket and secret from a notebook, on the embedded emulator.

Run it with ``python examples/notebook_data.py``: no AWS account is needed. Against AWS,
use ``Fluoride(profile="lab")`` (your own credentials) and the name of an existing
service instead of creating and deleting one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from boto3.dynamodb.conditions import Key

from fluoride import Fluoride


def main() -> None:
    with Fluoride.local() as fl:
        svc = fl.service("notes")
        svc.create()

        # [table]
        table = svc.table
        table.put_item({"pk": "note#1", "text": "buy milk", "stars": 2})
        table.put_item({"pk": "note#2", "text": "call Ada", "stars": 5})
        print(table.get_item({"pk": "note#1"}))  # a dict, or None when there is none
        print(table.get_item({"pk": "note#9"}))  # None
        for item in table.scan():  # fetched page by page as the loop goes
            print(item["pk"], item["text"])
        (ada,) = table.query(KeyConditionExpression=Key("pk").eq("note#2"))
        print(ada["stars"])  # 5: numbers come back as int or float (or Decimal, see data.md)
        table.delete_item({"pk": "note#1"})
        # [/table]

        # [bucket]
        bucket = svc.bucket
        bucket.put_bytes("reports/monday.csv", b"day,count\nmon,3\n")
        print(bucket.get_bytes("reports/monday.csv").decode())
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp, "tuesday.csv")
            local.write_text("day,count\ntue,5\n")
            bucket.upload_file(local, "reports/tuesday.csv")
            copy = bucket.download_file("reports/tuesday.csv", Path(tmp, "copy.csv"))
            print(copy.read_text())
        for obj in bucket.list("reports/"):  # ObjectSummary(key, size, last_modified, etag)
            print(obj.key, obj.size, obj.last_modified)
        url = bucket.presigned_url("reports/monday.csv", expires=600)  # for a colleague
        print(url.split("?")[0])
        # [/bucket]

        # [secret]
        secret = svc.secret
        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "api.key").write_text("k-123")
            Path(folder, "db.password").write_text("s3cret")
            secret.load_files(folder)  # merged into what the secret already holds
        values = secret.get_json()
        print(sorted(values))  # the generated "password" is still there
        secret.put_json({**values, "feature.flags": "beta"})
        # [/secret]

        # [delete]
        result = svc.delete()  # the stores are kept...
        print(result.kept)
        svc.create()  # ...creating "notes" again takes them over, data included...
        print(svc.table.get_item({"pk": "note#2"}))  # still there: {'pk': 'note#2', ...}
        svc.delete(purge_data=True)  # ...until you remove them, every version included
        # [/delete]


if __name__ == "__main__":
    main()
