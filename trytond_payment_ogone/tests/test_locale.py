"""The shipped translations cover every string the module exports."""
import re

import polib

from trytond.pool import Pool
from trytond.tests.test_tryton import DBTestCase, with_transaction

from .tools import LANGUAGES, MODULE, locale_file

PLACEHOLDER = re.compile(r'%\([a-z_]+\)[sd]')


def module_strings():
    """The (msgctxt, msgid) pairs of the module's translation export

    The same steps as `trytond-admin --export-translations`: the set wizard
    extracts the strings of the views and reports, then the export of the
    module in the source language lists them all.
    """
    pool = Pool()
    Translation = pool.get('ir.translation')
    TranslationSet = pool.get('ir.translation.set', type='wizard')
    session_id, _, _ = TranslationSet.create()
    TranslationSet.execute(session_id, {}, 'set_')
    TranslationSet.delete(session_id)
    template = polib.pofile(
        Translation.translation_export('en', MODULE).decode('utf-8'))
    return {(e.msgctxt, e.msgid) for e in template}


class AccountPaymentOgoneLocaleTestCase(DBTestCase):
    "Test the translations of Account Payment Ogone"
    module = MODULE
    maxDiff = None
    # The strings of invoices paid online exist with these modules only
    extras = ['account_invoice', 'account_payment_clearing']

    @with_transaction()
    def test_po_files_complete(self):
        "Each shipped language translates every exported string, no other"
        strings = module_strings()
        self.assertGreater(len(strings), 100)
        for code in LANGUAGES:
            with self.subTest(language=code):
                po = polib.pofile(locale_file(code))
                entries = [e for e in po if not e.obsolete]
                keys = [(e.msgctxt, e.msgid) for e in entries]
                # A new or changed string: regenerate the msgids with
                # trytond-admin --export-translations and translate them.
                problems = [
                    f"missing {k}" for k in sorted(strings - set(keys))]
                problems += [
                    f"no longer exported {k}"
                    for k in sorted(set(keys) - strings)]
                problems += [
                    f"twice {k}" for k in sorted(set(keys))
                    if keys.count(k) > 1]
                for entry in entries:
                    key = (entry.msgctxt, entry.msgid)
                    if not entry.msgstr.strip():
                        problems.append(f"untranslated {key}")
                    if 'fuzzy' in entry.flags:
                        problems.append(f"fuzzy {key}")
                    if (sorted(PLACEHOLDER.findall(entry.msgstr))
                            != sorted(PLACEHOLDER.findall(entry.msgid))):
                        problems.append(f"placeholders differ {key}")
                self.assertEqual(problems, [], f"{code}.po")

del DBTestCase
