"""党建领治 party_leadership: 三项清单、共建协议、双报到、网络楼长."""
