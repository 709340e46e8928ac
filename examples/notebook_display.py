"""What Fluoride's values show in a notebook, on the embedded emulator.

Run it with ``python examples/notebook_display.py``: no AWS account is needed. In Jupyter,
a cell that ends with one of these values shows it as a table (its ``_repr_html_``); here
each is printed as the one line ``repr()`` gives, which is what a terminal shows.
"""

from __future__ import annotations

from fluoride import Fluoride, LogLines


def main() -> None:
    with Fluoride.local() as fl:
        print(repr(fl))  # account, region, where calls go: no AWS call
        svc = fl.service("gallery")
        print(repr(svc.create()))  # a ServiceStatus: state, tasks, release, URL
        assert fl.emulator is not None
        fl.emulator.push_image("fluoride/gallery", "v1")
        print(repr(svc.deploy("v1")))  # a Release
        print(repr(svc.history()))  # a ReleaseList: a table of releases in a notebook

        for i in range(25):
            svc.table.put_item({"pk": f"note#{i:02}", "text": f"note {i}"})
        items = svc.table.scan()  # lazy, as before: nothing is read yet
        print(repr(items))  # reads the first 10 (and one more, to know there are more)
        print(len(list(items)))  # iterating still yields all 25, those 10 included

        lines = svc.logs(since="1h").head(3)  # LogLines: a table in a notebook
        print(isinstance(lines, LogLines), len(lines))
        html = svc.status()._repr_html_()  # what Jupyter shows for a status
        print(html.startswith("<table>"))
        print(repr(svc.delete(purge_data=True)))  # a DeleteResult


if __name__ == "__main__":
    main()
