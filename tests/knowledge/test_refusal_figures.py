"""The figure rule's reading of years (a number of years, not a date, answers 「何年？」), of
days (business days count) and of 「どのくらい」 (a quantity of any unit)."""

from __future__ import annotations

import pytest

from knowledge.refusal import asked_figures, holds_figure


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [
        ("運営管理期間は何年？", "運営管理期間 10年（平成 31年度～平成 40年度）", True),
        ("契約は全部で何年？", "計十二年間の包括契約とする。", True),
        ("何年ごとに見直す？", "5 年ごとに見直す。", True),
        ("監査は何年に1回？", "外部監査は毎年実施する。", True),
        ("監査は何年に1回？", "年1回実施する。", True),
        # dates are not durations: an era year, a four-digit year, a fiscal year
        ("運営管理期間は何年？", "管理運営に関する規則（平成17年規則第46号）", False),
        ("運営管理期間は何年？", "令和 5 年3月27日付け", False),
        ("運営管理期間は何年？", "2026年4月から運用する。", False),
        ("運営管理期間は何年？", "3年度に見直す。", False),
        # 「何年度」 asks for a fiscal year
        ("見直しは何年度？", "令和7年度に見直す。", True),
        ("見直しは何年度？", "平成元年度から", True),
        ("見直しは何年度？", "3年間で見直す。", False),
        # days counted in business days answer 「何日？」 as plain days do
        ("報告書は何日以内に出す？", "日次業務報告書 / 作業終了後3開庁日以内", True),
        ("議事録は何日以内？", "3営業日以内に作成し区へ提出する", True),
        ("何稼働日前までに連絡する？", "5稼働日前までに連絡すること。", True),
        ("報告書は何日以内に出す？", "開庁日の8:30~17:15までとする。", False),
        # 「どのくらい」 asks for a quantity of any unit: a duration, a count, a rate, a share
        ("障害のとき業者はどれくらいで来てくれる？", "1時間以内に本市へ臨場する。", True),
        ("市役所に月どのくらい来るの？", "平均して月3日は履行場所において業務遂行に当たる", True),
        ("初期費用は契約額のどの程度まで？", "契約額における 1/3を限度とする。", True),
        ("定例会はどのくらいの頻度？", "定期保守会議 / 毎月等", True),
        ("評価会議はどれくらいの頻度？", "運用業務年間評価会議 / 年間の運用作業実績の確認 / 年次", True),
        ("見直しはどのくらいの間隔？", "サービスレベル検討会 / 四半期に見直す", True),
        ("問い合わせは年間どのくらい来る？", "問合せ・要望全般を一次窓口として受け付ける。", False),
        ("問い合わせは年間どのくらい来る？", "令和4年度に開始する。", False),
        ("回答まで何分かかる？", "必要性を事前に十分に確認しなければならない。", False),
        ("回答まで何分かかる？", "受付から三十分以内に回答する。", True),
    ],
)
def test_figures_asked_and_stated(question: str, text: str, answers: bool) -> None:
    patterns = asked_figures(question)
    assert patterns
    assert holds_figure(text, patterns) is answers


def test_a_question_without_a_figure_asks_none() -> None:
    assert asked_figures("年度末に台帳と突き合わせるのはなぜ？") == []


def test_how_much_adds_a_quantity_only_when_no_figure_of_its_own_is_asked() -> None:
    # 「いくらぐらい？」 keeps its own figure: an amount in 円, not any number
    [amount] = asked_figures("どのくらい、いくらかかる？")
    assert holds_figure("300 万円以上", [amount]) and not holds_figure("3年以上", [amount])

