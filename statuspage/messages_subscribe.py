"""The subscription pages' words in Japanese and English (templates ``subscribe_*.html``).

``monitor.app`` hands this catalog to ``monitor.subscriptions.SubscribePages``. Every key has
both languages; every key starts with ``subscribe.``.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "subscribe.page.title": {"ja": "{name} メール通知", "en": "{name} email updates"},
    "subscribe.page.skip": {"ja": "本文へ移動", "en": "Skip to content"},
    "subscribe.page.language": {"ja": "言語", "en": "Language"},
    "subscribe.page.back": {"ja": "ステータスページに戻る", "en": "Back to the status page"},
    "subscribe.form.heading": {"ja": "障害情報をメールで受け取る", "en": "Get email updates"},
    "subscribe.form.intro": {
        "ja": "障害やメンテナンスの発生・更新・終了をメールでお知らせします。"
        "まず確認メールをお送りしますので、メール内のリンクを開いて登録を完了してください。",
        "en": "We email you when an incident or maintenance starts, changes or ends. "
        "We first send a confirmation email: follow its link to complete your subscription.",
    },
    "subscribe.form.email": {"ja": "メールアドレス", "en": "Email address"},
    "subscribe.form.language": {"ja": "通知の言語", "en": "Language of the emails"},
    "subscribe.form.components": {
        "ja": "通知を受け取るサービス",
        "en": "Components to hear about",
    },
    "subscribe.form.all": {
        "ja": "すべて（今後追加されるサービスを含む）",
        "en": "All components (including ones added later)",
    },
    "subscribe.form.other": {"ja": "その他", "en": "Other"},
    "subscribe.form.submit": {"ja": "登録する", "en": "Subscribe"},
    "subscribe.form.privacy": {
        "ja": "メールアドレスは通知の送信にのみ使用し、公開することはありません。",
        "en": "We use your address only to send these emails and never show it publicly.",
    },
    "subscribe.sent.heading": {"ja": "確認メールをご確認ください", "en": "Check your inbox"},
    "subscribe.sent.body": {
        "ja": "入力されたアドレスがメールを受信できる場合、確認用リンクを記載したメールが届きます。"
        "リンクの有効期限は{hours}時間です。リンクを開くまで、登録や変更は行われません。",
        "en": "If the address can receive email, a message with a confirmation link is on its "
        "way. The link is valid for {hours} hours; nothing changes until you follow it.",
    },
    "subscribe.sent.spam": {
        "ja": "メールが届かない場合は、迷惑メールフォルダもご確認ください。",
        "en": "If it does not arrive, please check your spam folder.",
    },
    "subscribe.confirmed.heading": {"ja": "登録が完了しました", "en": "You are subscribed"},
    "subscribe.confirmed.body": {
        "ja": "選択したサービスの障害やメンテナンスの情報をメールでお知らせします。",
        "en": "We will email you about incidents and maintenance of the components you chose.",
    },
    "subscribe.confirmed.manage": {"ja": "通知の設定を変更する", "en": "Change your preferences"},
    "subscribe.confirmed.bookmark": {
        "ja": "このリンクは他の人と共有しないでください。"
        "お送りするメールにも、設定の変更と配信停止のリンクを記載しています。",
        "en": "Keep this link to yourself. Every email we send also carries links to change "
        "your preferences or to unsubscribe.",
    },
    "subscribe.invalid.heading": {
        "ja": "このリンクは使用できません",
        "en": "This link cannot be used",
    },
    "subscribe.invalid.expired": {
        "ja": "このリンクは有効期限が切れています。",
        "en": "This link has expired.",
    },
    "subscribe.invalid.invalid": {
        "ja": "このリンクは正しくないか、新しいリンクに置き換えられたか、すでに無効になっています。",
        "en": "This link is not right, was replaced by a newer one, or is no longer valid.",
    },
    "subscribe.invalid.again": {"ja": "もう一度登録する", "en": "Subscribe again"},
    "subscribe.manage.heading": {"ja": "通知の設定", "en": "Your email preferences"},
    "subscribe.manage.saved": {"ja": "設定を保存しました。", "en": "Your preferences were saved."},
    "subscribe.manage.unsubscribed_note": {
        "ja": "現在、配信を停止しています。設定を保存すると配信を再開します。",
        "en": "You are unsubscribed. Saving these preferences subscribes you again.",
    },
    "subscribe.manage.save": {"ja": "保存する", "en": "Save"},
    "subscribe.manage.unsubscribe": {
        "ja": "すべての配信を停止する",
        "en": "Unsubscribe from all emails",
    },
    "subscribe.unsubscribe.heading": {"ja": "配信を停止しますか？", "en": "Unsubscribe?"},
    "subscribe.unsubscribe.body": {
        "ja": "下のボタンを押すと、{name} からのメール通知をすべて停止します。",
        "en": "Press the button to stop all email updates from {name}.",
    },
    "subscribe.unsubscribe.button": {"ja": "配信を停止する", "en": "Unsubscribe"},
    "subscribe.unsubscribed.heading": {"ja": "配信を停止しました", "en": "You are unsubscribed"},
    "subscribe.unsubscribed.body": {
        "ja": "今後、メール通知はお送りしません。",
        "en": "We will not send you any more email updates.",
    },
    "subscribe.unsubscribed.again": {"ja": "配信を再開する", "en": "Subscribe again"},
    "subscribe.problem.heading": {"ja": "送信できませんでした", "en": "Your request was not sent"},
    "subscribe.problem.back": {"ja": "登録フォームに戻る", "en": "Back to the form"},
    "subscribe.error.email": {
        "ja": "メールアドレスを正しく入力してください。",
        "en": "Enter a valid email address.",
    },
    "subscribe.error.language": {
        "ja": "通知の言語を選んでください。",
        "en": "Choose the language of the emails.",
    },
    "subscribe.error.components_empty": {
        "ja": "サービスを1つ以上、または「すべて」を選んでください。",
        "en": "Choose at least one component, or all of them.",
    },
    "subscribe.error.components_unknown": {
        "ja": "選択されたサービスが見つかりません。",
        "en": "One of the chosen components does not exist.",
    },
    "subscribe.error.content_type": {
        "ja": "フォームまたは JSON で送信してください。",
        "en": "Send a form or JSON.",
    },
    "subscribe.error.too_large": {
        "ja": "送信内容が大きすぎます。",
        "en": "The request is too large.",
    },
    "subscribe.error.body": {
        "ja": "送信内容を読み取れませんでした。",
        "en": "The request could not be read.",
    },
    "subscribe.limit.client": {
        "ja": "このネットワークからの登録が多すぎます。{minutes}分後にもう一度お試しください。",
        "en": "Too many requests from your network. Please try again in {minutes} min.",
    },
    "subscribe.limit.address": {
        "ja": "このアドレスへの確認メールの送信が上限に達しました。"
        "{minutes}分後にもう一度お試しください。",
        "en": "Too many confirmation emails were asked for this address. "
        "Please try again in {minutes} min.",
    },
    "subscribe.limit.everyone": {
        "ja": "ただいま登録が集中しています。{minutes}分後にもう一度お試しください。",
        "en": "Too many people are subscribing right now. Please try again in {minutes} min.",
    },
}
