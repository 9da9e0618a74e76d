"""The rules of the DirectLink operations that need no database: card expiry and query back-off."""
import datetime as dt
import unittest
from types import SimpleNamespace

from ..directlink import (
    QUERY_BACKOFF_MAX, alias_expired, next_query_at)


class DirectLinkRulesTestCase(unittest.TestCase):

    def test_card_valid_through_its_expiry_month(self):
        "A card expiring this month can still be charged; last month's cannot"
        today = dt.date(2026, 11, 30)
        self.assertFalse(alias_expired(SimpleNamespace(expiry='1126'), today))
        self.assertFalse(alias_expired(SimpleNamespace(expiry='0127'), today))
        self.assertTrue(alias_expired(SimpleNamespace(expiry='1026'), today))
        self.assertTrue(alias_expired(SimpleNamespace(expiry='1225'), today))

    def test_unknown_expiry_is_left_to_ogone(self):
        "Without an expiry Tryton cannot refuse the card: Ogone decides"
        for expiry in [None, '', '12/27', 'abcd']:
            with self.subTest(expiry=expiry):
                self.assertFalse(alias_expired(SimpleNamespace(expiry=expiry)))

    def test_query_back_off_doubles_up_to_a_day(self):
        now = dt.datetime(2026, 11, 30, 12, 0)
        waits = [next_query_at(count, now) - now for count in range(12)]
        self.assertEqual(waits[:3], [
                dt.timedelta(minutes=5), dt.timedelta(minutes=10),
                dt.timedelta(minutes=20)])
        self.assertEqual(waits[-1], QUERY_BACKOFF_MAX)
        self.assertEqual(waits, sorted(waits))
