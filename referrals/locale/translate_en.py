# ruff: noqa: E501
"""Fill referrals/locale/en/LC_MESSAGES/django.po from the table below (keys are unique
prefixes of the Japanese msgid). Run after `makemessages` in referrals/, then compilemessages."""

from __future__ import annotations

import sys
from pathlib import Path

EN = {
    "提携が見つかりません。": "Partnership not found.",
    "status の値が正しくありません。": "Invalid value for status.",
    "紹介": "Referrals",
    "キャリアリレーのプライバシーポリシー（版: %(version)s）": "I have read the CareerRelay privacy policy (version %(version)s) and agree that the information I enter is used for my registration, identity confirmation and to contact me.",
    "入力した個人情報（氏名・メールアドレス": "I agree that the personal data I enter (name, email address, phone number, desired role and preferred location) is provided to %(agency)s (fee-charging employment placement licence no. %(license)s) for job placement. %(company)s does not receive my contact details; it only sees the status of the referral.",
    "ファイルが空です。": "The file is empty.",
    "ファイルが大きすぎます（上限 2MB）。": "The file is too large (2 MB at most).",
    "文字コードを判別できません。": "The character encoding could not be recognised. Please save the file as UTF-8 or Shift_JIS.",
    "CSVとして読めません: %(error)s": "The file cannot be read as CSV: %(error)s",
    "1行目に見出し name, email": "Line 1 must hold the headers name, email (or 氏名, メールアドレス).",
    "候補者の行がありません。": "The file has no candidate rows.",
    "行数が多すぎます（上限 %(max)s 行）。": "Too many rows (%(max)s at most).",
    "氏名が空です。": "The name is empty.",
    "氏名は %(max)s 文字以内にしてください。": "The name must be at most %(max)s characters.",
    "氏名に < や > は使えません。": "The name cannot contain < or >.",
    "メールアドレスが空です。": "The email address is empty.",
    "メールアドレスの形式が正しくありません: %(email)s": "Invalid email address: %(email)s",
    "選択してください": "Please choose",
    "記号 < と > は使えません。": "The characters < and > cannot be used.",
    "使用できない文字が含まれています。": "This contains characters that cannot be used.",
    "お名前": "Name",
    "お名前を入力してください。": "Please enter your name.",
    "お名前は%(limit_value)d文字以内で入力してください。": "Your name can be at most %(limit_value)d characters.",
    "メールアドレス": "Email address",
    "メールアドレスを入力してください。": "Please enter your email address.",
    "メールアドレスが長すぎます。": "The email address is too long.",
    "電話番号": "Phone number",
    "電話番号を入力してください。": "Please enter your phone number.",
    "電話番号が長すぎます。": "The phone number is too long.",
    "希望職種": "Desired role",
    "希望職種は%(limit_value)d文字以内で入力してください。": "The desired role can be at most %(limit_value)d characters.",
    "希望勤務地（都道府県）": "Preferred work location (prefecture)",
    "希望勤務地を選択してください。": "Please choose your preferred work location.",
    "希望勤務地を一覧から選択してください。": "Please choose your preferred work location from the list.",
    "プライバシーポリシーへの同意が必要です。": "You need to agree to the privacy policy.",
    "紹介会社への個人情報の提供への同意が必要です。": "You need to agree to your personal data being provided to the placement agency.",
    "メールアドレスの形式が正しくありません（例: taro@example.jp）。": "Please enter a valid email address (e.g. taro@example.jp).",
    "電話番号は半角数字10〜11桁で入力してください": "Please enter a phone number of 10 to 11 digits (e.g. 090-1234-5678).",
    "提携先の紹介会社": "Partner agency",
    "種類": "Kind",
    "ラベル": "Label",
    "例: 2026年度 中途採用（営業職）": "e.g. 2026 mid-career hiring (sales)",
    "候補者名（個別リンク）": "Candidate name (personal link)",
    "候補者のメールアドレス（個別リンク）": "Candidate email (personal link)",
    "有効期限（任意）": "Expires on (optional)",
    "CSVファイル（列: name, email）": "CSV file (columns: name, email)",
    "CSVファイルを選択してください。": "Please choose a CSV file.",
    "紹介元企業の社員ドメインからの登録です": "Registered with an email domain of the referring company (possible self-referral).",
    "使い捨てメールアドレスのドメインです。": "The email address uses a disposable domain.",
    "短時間に登録が集中しています": "Too many registrations in a short time (hourly cap exceeded).",
    "提携先を選択してください。": "Please choose a partner agency.",
    "リンクを作成しました。": "The link was created.",
    "この候補者の個別リンクは作成済みです。": "A personal link for this candidate already exists.",
    "リンクを有効にしました。": "The link is active again.",
    "リンクを無効にしました。": "The link was deactivated.",
    "選択したリンクを無効にする": "Deactivate the selected links",
    "紹介元企業の担当者のメールアドレスです": "The email address belongs to a staff member of the referring company (possible self-referral).",
    "ファイルに問題があるため、リンクは作成されていません。": "No links were created because the file has problems.",
    "キャンペーン（求人・採用期ごと）": "Campaign (per job or hiring round)",
    "個別（候補者ごと）": "Personal (per candidate)",
    "有効": "Active",
    "有効期限": "Expires",
    "紹介リンク": "Referral links",
    "人": "Human",
    "ボット": "Bot",
    "メールセキュリティのスキャン": "Mail security scanner",
    "HEAD リクエスト": "HEAD request",
    "新規": "New",
    "無効": "Inactive",
    "重複": "Duplicate",
    "確認待ち": "On hold",
    "同意撤回": "Consent withdrawn",
    "連絡済み": "Contacted",
    "面談済み": "Interviewed",
    "企業へ推薦": "Introduced",
    "内定": "Offer",
    "入社": "Placed",
    "終了": "Closed",
    "この企業と紹介会社の提携は現在有効ではありません。": "The partnership between this company and the placement agency is not active at the moment.",
    "紹介会社の有料職業紹介事業の許可が確認されていません。": "The placement agency's employment placement licence has not been verified.",
    "紹介会社の有料職業紹介事業の許可の有効期限が切れています。": "The placement agency's employment placement licence has expired.",
    "ラベルを入力してください。": "Please enter a label.",
    "ラベルは120文字以内にしてください。": "The label can be at most 120 characters.",
    "種類が正しくありません。": "Invalid kind.",
    "有効期限は未来の日時にしてください。": "The expiry must be in the future.",
    "個別リンクには候補者のメールアドレスが必要です。": "A personal link needs the candidate's email address.",
    "メールアドレスの形式が正しくありません。": "Invalid email address.",
    "キャンペーンリンクには候補者のメールアドレスを指定できません。": "A campaign link cannot carry a candidate's email address.",
    "ラベルは1〜120文字で入力してください。": "The label must be 1 to 120 characters.",
    "%(line)s行目: %(message)s": "Line %(line)s: %(message)s",
    "一括作成 %(date)s": "Bulk %(date)s",
    "同意が必要です。": "Your consent is required.",
    "リンクが見つかりません。": "Link not found.",
    "このリンクは無効です。": "This link is no longer valid.",
    "キャリアリレー": "CareerRelay",
    "本文へ移動": "Skip to content",
    "このページはキャリアリレー（紹介プラットフォーム）が運営しています。": "This page is operated by CareerRelay (referral platform).",
    "プライバシーポリシー 版: %(version)s": "Privacy policy version: %(version)s",
    "現在、登録を受け付けていません": "Registration is closed",
    "現在、このリンクからの登録は受け付けていません": "Registration through this link is currently closed",
    "ご不便をおかけして申し訳ございません。": "We apologise for the inconvenience. Nothing you entered has been stored.",
    "お問い合わせ: %(agency)s": "Contact: %(agency)s",
    "%(name)s 様": "Dear %(name)s,",
    "%(company)s からのご案内を通じて": "Thank you for registering with %(agency)s through the invitation from %(company)s.",
    "以下のリンクを開き、メールアドレスの確認を完了してください": "Please open the link below to confirm your email address (valid for 7 days).",
    "登録状況の確認、同意の撤回、個人データの消去は": "You can check your registration, withdraw your consent or have your personal data erased at any time on this page:",
    "人材紹介会社: %(agency)s（有料職業紹介事業 許可番号 %(number)s）": "Placement agency: %(agency)s (employment placement licence no. %(number)s)",
    "お心当たりのない場合は": "If you did not register, please ignore this email. The registration will not be confirmed and nobody will contact you.",
    "【キャリアリレー】メールアドレスのご確認": "[CareerRelay] Please confirm your email address (registration with %(agency)s)",
    "このリンクは有効期限が切れています": "This link has expired",
    "このリンクは現在ご利用いただけません": "This link can no longer be used",
    "リンクの有効期限が切れたか、発行元によって無効にされました。": "The link has expired or was deactivated by its issuer.",
    "キャリアのご相談をご希望の場合は、%(agency)s": "If you would like career advice, please contact %(agency)s directly.",
    "人材紹介会社": "Placement agency",
    "許可番号": "Licence no.",
    "連絡先": "Contact",
    "個別リンクの一括作成": "Bulk personal links",
    "紹介リンク一覧": "Referral links",
    "個別リンクを作成しました": "Personal links created",
    "新規作成 %(created)s 件、作成済み %(existing)s 件": "%(created)s created, %(existing)s already existed",
    "CSVをダウンロード（UTF-8）": "Download CSV (UTF-8)",
    "CSVをダウンロード（Shift_JIS / Excel）": "Download CSV (Shift_JIS / Excel)",
    "氏名": "Name",
    "リンク": "Link",
    "ATSから書き出したCSV": "Upload a CSV exported from your ATS (headers name, email on line 1) to create one personal link per candidate. UTF-8 (with or without BOM) and Shift_JIS are supported. Uploading the same file again does not create duplicate links.",
    "次の行を修正して、もう一度アップロードしてください。": "Please fix these lines and upload again.",
    "%(line)s行目": "Line %(line)s",
    "アップロードして作成": "Upload and create",
    "紹介会社": "Agency",
    "候補者": "Candidate",
    "状態": "Status",
    "コピーしました": "Copied",
    "コピー": "Copy",
    "お祈りメールに貼り付ける文面（日本語）": "Paragraph for the rejection email (Japanese)",
    "文面をコピー": "Copy text",
    "英語の文面": "English paragraph",
    "このリンクを無効にする": "Deactivate this link",
    "このリンクを有効に戻す": "Reactivate this link",
    "お見送りのご連絡（お祈りメール）に貼り付けるリンクです。": "Links to paste into your rejection emails. Candidates can register, with their consent, with a partner placement agency.",
    "ATSのCSVから個別リンクを一括作成する": "Create personal links in bulk from an ATS CSV",
    "新しいリンク": "New link",
    "有効な提携がありません。": "There is no active partnership. You can create links once a partner agency has accepted and its licence is verified.",
    "作成する": "Create",
    "作成日": "Created",
    "まだリンクはありません。": "No links yet.",
    "%(company)s からのご案内": "A note from %(company)s",
    "次のキャリアを、プロと一緒に探しませんか": "Find your next career step with a professional",
    "%(company)s からのメッセージ": "Message from %(company)s",
    "このたびは %(company)s の選考にご応募いただき": "Thank you very much for applying to %(company)s.",
    "ご希望の方には、提携する人材紹介会社": "If you wish, our partner placement agency <strong>%(agency)s</strong> will introduce jobs that suit you and advise you on your career. Registration is optional and free of charge for job seekers.",
    "有料職業紹介事業 許可番号: %(number)s": "Employment placement licence no.: %(number)s",
    "ご登録後の流れ": "What happens next",
    "確認メールをお送りします。": "We send you a confirmation email. Please confirm your address with the link in it.",
    "%(agency)s の担当者から、数営業日以内にご連絡いたします。": "A consultant of %(agency)s will contact you within a few business days.",
    "面談でご希望を伺い、合う求人をご紹介します。": "In an interview they learn what you are looking for and introduce matching jobs.",
    "ご登録": "Register",
    "短時間に多くの送信がありました。": "Too many submissions in a short time. Please wait a while and try again.",
    "このフィールドは空のままにしてください": "Leave this field empty",
    "必須": "required",
    "任意": "optional",
    "%(company)s には、あなたの連絡先は共有されません。": "%(company)s does not receive your contact details. You can withdraw your consent and ask for your data to be erased at any time.",
    "同意して登録する": "Agree and register",
    "登録状況とデータの管理": "Your registration and data",
    "リンクが無効です": "This link is not valid",
    "リンクの有効期限が切れたか、リンクが正しくありません。": "The link has expired or is not correct.",
    "あなたの個人データは消去されました。": "Your personal data has been erased. Only the referral count remains, without anything that identifies you.",
    "%(name)s 様の登録情報です。": "Registration of %(name)s.",
    "同意は撤回されています。": "Your consent has been withdrawn. The agency no longer uses your data for job placement.",
    "あなたのデータを保有している事業者": "Who holds your data",
    "確認済み": "confirmed",
    "未確認": "not confirmed",
    "紹介の状況": "Referral status",
    "登録済み・担当者からのご連絡をお待ちください": "Registered; a consultant will contact you",
    "紹介会社で受付済み": "Accepted by the agency",
    "対応終了": "Closed",
    "以前に別の経路でご登録済み": "Already registered earlier through another route",
    "同意撤回済み": "Consent withdrawn",
    "同意の撤回": "Withdraw consent",
    "撤回すると、紹介会社はあなたの情報を職業紹介に利用しなくなります。": "If you withdraw, the agency no longer uses your data for job placement.",
    "同意を撤回する": "Withdraw my consent",
    "個人データの消去": "Erase personal data",
    "お名前・メールアドレス・電話番号などを消去します。": "Erases your name, email address, phone number and other details. This cannot be undone.",
    "消去すると元に戻せないことを理解しました": "I understand that erasure cannot be undone",
    "確認のチェックを入れてください。": "Please tick the confirmation box.",
    "個人データを消去する": "Erase my personal data",
    "ご登録ありがとうございます": "Thank you for registering",
    "確認メールをお送りしました。": "We have sent you a confirmation email. Please open the link in it to confirm your email address.",
    "確認後、%(agency)s の担当者からご連絡いたします。": "After that, a consultant of %(agency)s will contact you.",
    "メールが届かない場合は、迷惑メールフォルダもご確認ください。": "If the email does not arrive, please check your spam folder.",
    "登録状況の確認・同意の撤回・データの消去はこちら": "Check your registration, withdraw consent or erase your data",
    "メールアドレスの確認": "Confirm your email address",
    "確認リンクが無効です": "This confirmation link is not valid",
    "リンクの有効期限（7日間）が切れたか": "The link has expired (after 7 days) or is not correct. Please register again.",
    "メールアドレスの確認が完了しました": "Your email address is confirmed",
    "ありがとうございます。%(agency)s の担当者からご連絡いたします。": "Thank you. A consultant of %(agency)s will contact you.",
    "下のボタンを押して、メールアドレスの確認を完了してください。": "Press the button below to confirm your email address.",
    "メールアドレスを確認する": "Confirm my email address",
}


def unquote(parts: list[str]) -> str:
    return "".join(
        bytes(p, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8") for p in parts
    )


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(path: Path) -> None:
    blocks = [b.strip("\n") for b in path.read_text(encoding="utf-8").strip().split("\n\n")]
    out, missing = [], []
    for block in blocks:
        lines = block.split("\n")
        msgid_lines: list[str] = []
        in_id = False
        for line in lines:
            if line.startswith("msgid "):
                in_id = True
                msgid_lines.append(line[6:].strip()[1:-1])
            elif in_id and line.startswith('"'):
                msgid_lines.append(line.strip()[1:-1])
            else:
                in_id = False
        msgid = unquote(msgid_lines) if msgid_lines else ""
        if msgid:
            match = EN.get(msgid) or next(
                (
                    v
                    for k, v in sorted(EN.items(), key=lambda kv: -len(kv[0]))
                    if len(k) >= 8 and msgid.startswith(k)
                ),
                None,
            )
            keep = (
                [
                    ln
                    for ln in lines
                    if not ln.startswith("msgstr")
                    and not (
                        ln.startswith('"')
                        and lines.index(ln)
                        > next(i for i, x in enumerate(lines) if x.startswith("msgstr"))
                    )
                ]
                if any(ln.startswith("msgstr") for ln in lines)
                else lines
            )
            keep = [ln for ln in keep if ln != "#, fuzzy"]
            if match is None:
                missing.append(msgid)
                match = ""
            block = "\n".join([*keep, "msgstr " + quote(match)])
        out.append(block)
    path.write_text("\n\n".join(b for b in out if b.strip()) + "\n", encoding="utf-8")
    for _m in missing:
        pass


if __name__ == "__main__":
    main(Path(sys.argv[1]))
