"""Pages of long lists at city scale. An exact count of a city's matches can cost more than
the page itself (a surname, searched city-wide, matches tens of thousands of households), so
the lists that can grow that long count at most ``cap`` rows and say "more than" beyond it:
a clerk narrows the search, an auditor exports."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    cap = 1000

    @cached_property
    def count(self) -> int:
        if not hasattr(self.object_list, "order_by"):
            return len(self.object_list)  # already in memory
        # Only the key is counted: the page's annotations (a household's member count) are
        # computed for the 25 rows shown, not for the thousand counted.
        counted = self.object_list.order_by().values("pk")[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)

    capped = False
