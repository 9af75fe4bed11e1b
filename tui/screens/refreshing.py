"""A console page that reloads its data off the UI thread: when shown, when returned to,
every ``REFRESH_SECONDS``, and when the desk's server notifies a change while it is shown. Subclasses name their ``TAG`` (the Loaded message's tag and the worker
group) and say what to ``load`` from the facade."""
from __future__ import annotations

from textual.screen import Screen


class RefreshingScreen(Screen):
    REFRESH_SECONDS = 10.0
    TAG = ""

    def load(self, facade):
        """What this page shows, read from the facade in a worker thread."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.action_refresh()
        self.set_interval(self.REFRESH_SECONDS, self.action_refresh)

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def desk_changed(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.app.run_db(self.load, target=self, tag=self.TAG, group=self.TAG)
