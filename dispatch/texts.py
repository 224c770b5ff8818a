"""Every SMS and outbound-call sentence, zh-CN first and English second; one place per language."""
from __future__ import annotations

ZH = {
    "category": {"daily_care": "生活照料", "housekeeping": "家政维修", "companionship": "精神慰藉",
                 "legal_aid": "法律维护", "emergency": "紧急救援"},
    # Offer: aim for one UCS-2 segment (≤ 70 characters).
    "offer": "派单{code}{category}:{address},{name}{phone}。回1接单,2拒绝",
    "offer_emergency": "急!派单{code}{category}:{address},{name}{phone}。回1接单,2拒绝",
    "accepted": "已接单{code}。请尽快上门,到达回复“到达”,完成回复“完成”。",
    "taken": "单{code}已由他人接单,谢谢。",
    "declined": "已拒绝单{code}。",
    "arrived": "已记录到达单{code}。完成后回复“完成”。",
    "completed": "单{code}已完成,辛苦了!",
    "too_late": "单{code}已结束或不存在。",
    "need_code": "您有多张订单:{codes}。请在回复中加上单号,如“接单 {first}”。",
    "no_order": "您当前没有可处理的订单。",
    "help": "养老热线:回1接单,2拒绝,到达,完成;多张订单请加单号。",
    "unknown_sender": "此号码未登记为服务人员。如需服务请拨打养老服务热线。",
    "notify_resident": "{name}您好,{tech}师傅({phone})已接单{code},约15分钟内上门。",
    "notify_resident_call": "{name}您好，您的服务单{digits}已由{tech}师傅接单，约15分钟内上门。师傅电话{phone_digits}。",
    "sla_reminder": "单{code}接单已超{minutes}分钟,请尽快上门,到达后回复“到达”。",
    "sla_alert": "养老热线单{code}接单{minutes}分钟技师未到:{tech}{tech_phone},居民{name}{phone}",
    "escalated": "养老热线单{code}{category}无人接单,请人工派单。居民{name}{phone},{address}",
    "line": {"elderly": "养老热线", "child": "未成年人保护热线"},
    "voicemail_alert": "{line}来电无人接听,已留言,请尽快回电{phone}。",
    "missed_alert": "{line}来电未接通,来电者已挂断,请尽快回电{phone}。",
    "case_status": {"voicemail": "有留言", "missed": "未接通"},
    # Child-line alert: one segment; the recording stays in the case, never in an SMS.
    "case_alert": "未保热线个案{code}{status},请回电{phone}。回复“收到 {code}”确认",
    "case_call": "未成年人保护热线个案{digits}尚无人确认。来电号码{phone_digits}。确认收到请按1。",
    "case_call_ok": "已确认，谢谢。",
    "case_ack_ok": "已确认个案{code},提醒已停止。请尽快回电{phone}。",
    "case_ack_already": "个案{code}已由{name}确认。",
    "case_ack_unknown": "未找到待确认的个案{code}。",
    "case_ack_none": "您没有待确认的个案。",
    "officer_help": "确认未保热线个案请回复“收到 个案号”,如“收到 123456”。",
    # Staff actions from the console (dispatch/manual.py); the assignment fits one segment like an offer.
    "assigned": "人工派单{code}{category}:{address},{name}{phone}。到达请回复“到达”",
    "unassigned": "单{code}已改派他人,您无需上门,谢谢。",
    "cancelled": "单{code}已取消,您无需上门,谢谢。",
    "notify_reassigned": "{name}您好,您的服务单{code}改由{tech}师傅({phone})上门,约15分钟内到达。",
    "notify_reassigned_call": "{name}您好，您的服务单{digits}改由{tech}师傅上门，约15分钟内到达。师傅电话{phone_digits}。",
}

EN = {
    "category": {"daily_care": "daily care", "housekeeping": "housekeeping", "companionship": "companionship",
                 "legal_aid": "legal aid", "emergency": "emergency"},
    # Order cards: one segment even when a Chinese name makes them UCS-2 (70 characters), so the template is terse.
    "offer": "Order {code} {category}: {address}, {name} {phone}. Reply 1 yes, 2 no",
    "offer_emergency": "URGENT {code} {category}: {address}, {name} {phone}. Reply 1 yes, 2 no",
    "accepted": "Order {code} is yours. Reply ARRIVED on arrival and DONE when finished.",
    "taken": "Order {code} was taken by someone else, thank you.",
    "declined": "Declined order {code}.",
    "arrived": "Arrival recorded for order {code}. Reply DONE when finished.",
    "completed": "Order {code} completed, thank you!",
    "too_late": "Order {code} is closed or does not exist.",
    "need_code": "You have several orders: {codes}. Add the code, e.g. \"1 {first}\".",
    "no_order": "You have no order to act on.",
    "help": "Hotline: reply 1 accept, 2 decline, ARRIVED, DONE; add the code if you have several orders.",
    "unknown_sender": "This number is not registered as a technician.",
    "notify_resident": "Hello {name}, {tech} ({phone}) accepted order {code} and will be there within 15 minutes.",
    "notify_resident_call": "Hello {name}, order {digits} was accepted by {tech}, arriving within 15 minutes. Phone {phone_digits}.",
    "sla_reminder": "Order {code}: accepted over {minutes} min ago, please get there; reply ARRIVED on arrival.",
    "sla_alert": "Order {code}: technician not there {minutes} min after accepting: {tech} {tech_phone}, resident {name} {phone}",
    "escalated": "Order {code} {category}: nobody accepted, dispatch by hand. Resident {name} {phone}, {address}",
    "line": {"elderly": "Elderly line", "child": "Child line"},
    "voicemail_alert": "{line}: call not answered, message left; please call back {phone}.",
    "missed_alert": "{line}: caller hung up before anyone answered; please call back {phone}.",
    "case_status": {"voicemail": "message left", "missed": "missed"},
    "case_alert": "Child line case {code} {status}, call back {phone}. Reply \"ACK {code}\" to acknowledge",
    "case_call": "Child line case {digits} is not acknowledged. Caller {phone_digits}. Press 1 to acknowledge.",
    "case_call_ok": "Acknowledged, thank you.",
    "case_ack_ok": "Case {code} acknowledged, alerts stopped. Please call back {phone}.",
    "case_ack_already": "Case {code} was acknowledged by {name}.",
    "case_ack_unknown": "No case {code} waiting for acknowledgement.",
    "case_ack_none": "You have no case waiting for acknowledgement.",
    "officer_help": "To acknowledge a child line case reply \"ACK <case code>\", e.g. \"ACK 123456\".",
    "assigned": "Assigned {code} {category}: {address}, {name} {phone}. Reply ARRIVED",
    "unassigned": "Order {code} was given to someone else; you need not go. Thank you.",
    "cancelled": "Order {code} was cancelled; you need not go. Thank you.",
    "notify_reassigned": "Hello {name}, order {code} is now with {tech} ({phone}), there within 15 minutes.",
    "notify_reassigned_call": "Hello {name}, order {digits} is now with {tech}, arriving within 15 minutes. Phone {phone_digits}.",
}

CATALOGUES = {"zh-CN": ZH, "en": EN}


def render(language: str, key: str, **params) -> str:
    """One message text in `language` (zh-CN when unknown)."""
    catalogue = CATALOGUES.get(language, ZH)
    return catalogue[key].format(**params)


def category_name(language: str, category: str) -> str:
    """A category's display name."""
    return CATALOGUES.get(language, ZH)["category"].get(category, category)
