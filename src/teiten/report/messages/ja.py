"""日本語の見出し・表記・文: JPCERT/CC「インターネット定点観測レポート」の書き方に倣う。

数値は3桁ごとに「,」で区切り、列挙は「、」でつなぐ。日付は「2019年4月1日」、期間は
「2019年4月1日～2019年6月30日」と書く。
"""

from __future__ import annotations

from datetime import date

LANG = "ja"
LIST_SEPARATOR = "、"
RANGE = "～"

TEXT: dict[str, str] = {
    "title": "インターネット定点観測レポート",
    "title_span": "（{span}）",
    "observation_period": "観測期間",
    "generated": "teiten {version}で作成",
    "generated_on": "{date}作成（teiten {version}）",
    "zone": "{abbr}（UTC{offset}）",
    "country_code": "{name}（{code}）",
    "contents": "目次",
    # sections
    "overview": "概況",
    "ports": "宛先ポート別{measure} 上位{n}位",
    "countries": "送信元地域別{measure} 上位{n}位",
    "phenomena": "注目された現象",
    "focus": "{country}を送信元とするパケット",
    "events": "DoS攻撃のバックスキャッタとスキャン活動",
    "scans": "スキャン活動",
    "dos": "DoS攻撃のバックスキャッタ",
    "method": "観測方法とデータ",
    # measures (headings) and metric labels (columns, axes)
    "measure.packets": "パケット数",
    "measure.per-sensor": "パケット数",
    "measure.sources": "送信元数",
    "metric.packets": "パケット数",
    "metric.per-sensor": "センサー1台あたりのパケット数",
    "metric.sources": "送信元IPアドレス数",
    "unit.share": "割合",
    "unit.count": "件数",
    # table columns
    "col.rank": "順位",
    "col.port": "宛先ポート",
    "col.service": "サービス名",
    "col.region": "送信元地域",
    "col.share": "割合",
    "col.previous_rank": "{previous}順位",
    "col.events": "件数",
    "col.actors_scans": "送信元数",
    "col.packets": "パケット数",
    "col.victim_region": "被害ホストの地域",
    "col.asn": "AS番号",
    "col.holder": "AS保有者",
    "col.new": "新規",
    "col.gone": "消滅",
    "unknown_asn": "AS情報なし",
    "col.proto": "プロトコル",
    "col.victim_ports": "応答元ポート",
    "col.start": "開始日時（{zone}）",
    "col.packets_per_sensor": "センサー1台あたりのパケット数",
    "col.duration": "継続時間",
    "col.rate": "推定攻撃レート（pps）",
    "col.rate_darknet": "ダークネットでの観測レート（pps）",
    "outside_top10": "TOP10外",
    "no_previous_rank": "－",
    "unknown_region": "不明",
    "no_service": "－",
    "figure": "図{n}",
    # charts (teiten.report.charts): what the y axis plots, the legend's own entries
    "figure.see": "{caption}は{figure}を参照してください。",
    "chart.period": "報告対象期間",
    "chart.daily": "細線：日別の値",
    "chart.clipped": "軸の上限を超えた日：値（日付）",
    "chart.view": "{quantity}（{view}）",
    "chart.median": "7日移動中央値",
    "chart.by_day": "日別",
    "axis.packets": "1日あたりのパケット数",
    "axis.per-sensor": "センサー1台・1日あたりのパケット数",
    "axis.sources": "1日あたりの送信元IPアドレス数",
    "axis.share": "パケットの割合（%）",
    "axis.share.mirai": "Mirai型パケットの割合（%）",
    "axis.count": "1日あたりの件数",
    "legend.tagged": "{name}・{tool}型",
    "table": "表{n}",
    # previous period, by kind of period
    "previous.quarter": "前四半期",
    "previous.month": "前月",
    "previous.week": "前週",
    "previous.day": "前日",
    "previous.year": "前年",
    "previous.range": "前期間",
    # overview
    "overview.intro": (
        "本レポートは、インターネット上で使用されていないIPアドレス（ダークネット）に設置した"
        "センサーに届くパケットの観測結果をまとめたものです。未使用のアドレスには本来通信が届かないため、"
        "観測されるパケットの多くは、ワームやボットによる感染先の探索、調査目的のスキャン、"
        "送信元を詐称したDoS攻撃を受けたホストからの応答（バックスキャッタ）などです。"
    ),
    "overview.intro_org": (
        "{organisation}では、インターネット上で使用されていないIPアドレス（ダークネット）にセンサーを"
        "設置し、そこに届くパケットを観測しています。未使用のアドレスには本来通信が届かないため、"
        "観測されるパケットの多くは、ワームやボットによる感染先の探索、調査目的のスキャン、"
        "送信元を詐称したDoS攻撃を受けたホストからの応答（バックスキャッタ）などです。"
    ),
    "overview.totals": (
        "観測期間中、{sensors}台のセンサーで観測したパケットは合計{packets}パケット、"
        "センサー1台あたり{per_sensor}パケットで、送信元のIPアドレスは{sources}件でした。"
    ),
    "overview.totals_hidden": (
        "観測期間中のセンサー1台あたりの受信パケット数は{per_sensor}パケット、"
        "送信元のIPアドレスは{sources}件でした。"
    ),
    "overview.kinds_hidden": (
        "このうち探索パケット（プローブ）が{probe_share}、バックスキャッタが{backscatter_share}を"
        "占めました。"
    ),
    "overview.kinds": (
        "このうち探索パケット（プローブ）は{probe}パケット（{probe_share}）、"
        "バックスキャッタは{backscatter}パケット（{backscatter_share}）でした。"
    ),
    "overview.change": (
        "{previous}のセンサー1台あたり{previous_value}パケットと比べ、{change}{direction}しました。"
    ),
    "overview.same": "{previous}のセンサー1台あたり{previous_value}パケットとほぼ同じでした。",
    "overview.no_previous": "{previous}の観測データはありません。",
    "overview.figure": "センサー1台あたりのパケット数の日別推移",
    "up": "増加",
    "down": "減少",
    "series.all": "全体",
    # rankings
    "ranking.intro": (
        "観測期間中にセンサーが受信した探索パケットについて、{dimension}の{measure}上位{n}位を"
        "表{table}に、その日別推移を図{figure}に示します。順位は{metric}によります。"
    ),
    "dimension.ports": "宛先ポート別",
    "dimension.countries": "送信元地域別",
    "ranking.top_port": (
        "最も多く観測されたのは{label}（{service}）宛てのパケットで、全体の{share}を占めました。"
    ),
    "ranking.top_port_noservice": (
        "最も多く観測されたのは{label}宛てのパケットで、全体の{share}を占めました。"
    ),
    "ranking.top_country": "送信元地域では{name}が最も多く、全体の{share}を占めました。",
    "ranking.entered": "{previous}にTOP10外だった{items}が、上位{n}位に入りました。",
    "ranking.no_previous": "{previous}のデータがないため比較できません。",
    "ranking.empty": "観測期間中に該当するパケットはありませんでした。",
    "ranking.busiest": (
        "{label}のパケットの{share}は、{country}の1つの送信元（{tools}）によるものです。"
    ),
    "ranking.busiest_plain": "{label}のパケットの{share}は、{country}の1つの送信元によるものです。",
    "ranking.busiest_within": (
        "{label}のパケットの{share}は、1つの送信元（{tools}）によるものです。"
    ),
    "ranking.busiest_within_plain": "{label}のパケットの{share}は、1つの送信元によるものです。",
    "ranking.one_host": (
        "†：最も多く送信した1つの送信元が、その行のパケットの{share}以上を占めています"
        "（ほぼ単一のホストによるもの）。"
    ),
    "ranking.few_hosts": (
        "‡：上位3つの送信元が、その行のパケットの{share}以上を占めています"
        "（少数のホストによるもの）。"
    ),
    "ranking.figure": "{heading}の日別推移（{metric}）",
    # phenomena
    "phenomena.intro": (
        "観測された変化のうち、規模・広がり・持続性の基準を満たし、注目度の高い{n}件を"
        "取り上げます。その他の検出結果は付録の表{table}に示します。"
    ),
    "phenomena.intro_none_notable": (
        "基準を満たす注目すべき現象はありませんでした。検出された変化は付録の表{table}に示します。"
    ),
    "phenomena.advisories": "参考情報",
    "phenomena.appendix": "付録：その他の検出結果",
    "phenomena.appendix_intro": (
        "以下は検出されたものの、本文で取り上げる基準（規模：1日の探索パケットの{volume}以上、"
        "持続：パケットの半分が{days}日以上に分散、1つの送信元が{share}未満）を満たさなかった"
        "もの、または本文の{n}件に次ぐものです。"
    ),
    "phenomena.appendix_table": "その他の検出結果",
    "col.finding": "検出内容",
    "col.subject": "対象",
    "col.first_day": "開始日",
    "col.sources": "送信元数",
    "col.top_share": "最多送信元の割合",
    "col.attribution": "送信元の広がり",
    "col.why": "本文に含めない理由",
    "attribution.one-host": "1ホスト",
    "attribution.few-hosts": "少数のホスト",
    "attribution.broad": "多数",
    "why.volume": "規模が小さい",
    "why.burst": "短期間に集中",
    "why.one-host": "1ホストによる",
    "why.few-hosts": "少数のホストによる",
    "why.overtaken-few-hosts": "追い越された側が少数のホストによる",
    "why.not-sustained": "持続していない",
    "why.rank": "注目度が本文の{n}件に及ばない",
    "kind.surge": "増加",
    "kind.drop": "減少",
    "kind.new_entrant": "上位への参入",
    "kind.crossover": "順位の逆転",
    "kind.mirai_share": "Mirai型の割合の変化",
    # conclusion
    "conclusion": "おわりに",
    "conclusion.intro": "今期の観測から、次の対策をお勧めします。",
    "conclusion.none": (
        "今期は特に注目すべき現象はありませんでした。引き続き、インターネットに公開している"
        "機器やサービスの設定と更新状況を定期的に確認してください。"
    ),
    "action.patch": (
        "{products}を利用している場合は、{cves}への対策（修正版の適用）を確認してください。"
    ),
    "action.credentials": (
        "{ports}を開放しているIoT機器（ルーター、カメラ、録画機など）は、初期設定のパスワードを"
        "変更し、不要なリモートログインを無効にしてください。"
    ),
    "action.expose": (
        "{ports}のサービスをインターネットに直接公開しないよう、アクセス制限を確認してください。"
    ),
    "action.notify": (
        "{country}の感染ホストについて、ネットワーク管理者やISPを通じて機器の所有者へ通知し、"
        "対処を促すことが有効です。"
    ),
    "phenomena.none": "観測期間中、特に注目すべき現象は検出されませんでした。",
    "phenomena.no_previous": (
        "{previous}のデータがないため比較できません（上位への新たな参入は判定していません）。"
    ),
    # focus
    "focus.totals_hidden": (
        "{country}に割り当てられたIPアドレスから送信された探索パケットは、センサー1台あたり"
        "{per_sensor}パケット（全体の{share}）、送信元のIPアドレスは{sources}件で、"
        "送信元地域別では{rank}でした。"
    ),
    "focus.totals": (
        "{country}に割り当てられたIPアドレスから送信された探索パケットは{packets}パケット"
        "（全体の{share}）、送信元のIPアドレスは{sources}件で、送信元地域別では{rank}でした。"
    ),
    "focus.unranked": "順位外",
    "focus.none": "観測期間中、{country}からの探索パケットは観測されませんでした。",
    "focus.ports": "{country}からの宛先ポート別{measure} 上位{n}位",
    "focus.mirai": (
        "Miraiとその亜種に共通する特徴（TCPシーケンス番号が宛先IPアドレスと一致するSYN"
        "パケット）を持つパケットの割合は、{country}からのパケットで{share}、"
        "全送信元で{share_all}でした。日別の推移を図{figure}に示します。"
    ),
    "focus.mirai_figure": "Miraiの特徴を持つパケットの割合の日別推移",
    "focus.asns": "{country}の感染ホスト（Mirai型の送信元）が多いAS 上位{n}位（送信元数）",
    "focus.asns_lead": (
        "{country}の感染ホスト（Miraiおよびその亜種の特徴を持つパケットの送信元）は{sources}件"
        "（{previous}: {previous_sources}件）で、うち{new}件は{previous}には観測されず、"
        "{previous}に観測された{gone}件は今期観測されませんでした。表{table}は、それらを多く"
        "抱えるネットワーク（AS）です。これらのASの運用者を通じて、機器の所有者に対処を"
        "促すことができます。"
    ),
    "focus.asns_lead_first": (
        "{country}の感染ホスト（Miraiおよびその亜種の特徴を持つパケットの送信元）は{sources}件"
        "でした。表{table}は、それらを多く抱えるネットワーク（AS）です。これらのASの運用者を"
        "通じて、機器の所有者に対処を促すことができます。"
    ),
    # events
    "scans.threshold": "{n}以上の",
    "scans.threshold_hidden": "規模に応じたしきい値以上の",
    "scans.hidden_note": (
        "このしきい値の値は、換算の規則からダークネットの規模が分かるため掲載していません。"
    ),
    "scans.text": (
        "一つの送信元から一つの宛先ポートへの送信のうち、ダークネットの{threshold}"
        "アドレスに届き、{rate}ものをスキャンとして数えると（{basis}）、観測期間中のスキャンは"
        "{events}件、送信元は{actors}件でした。"
    ),
    "scans.text_any_rate": (
        "一つの送信元から一つの宛先ポートへの送信のうち、ダークネットの{threshold}"
        "アドレスに届いたものをスキャンとして数えると（{basis}）、観測期間中のスキャンは"
        "{events}件、送信元は{actors}件でした。"
    ),
    "scans.rate_internet-wide": "インターネット全体で毎秒{min_rate}パケット以上と推定される",
    "scans.rate_darknet": (
        "センサーへの到着率が、宛先を一様に選ぶとすればインターネット全体で毎秒{min_rate}"
        "パケット以上にあたる"
    ),
    "scans.rate_implied": (
        "もう一つの条件（インターネット全体での推定レートが毎秒{min_rate}パケット以上）は、"
        "この規模のダークネットではどのスキャンも満たすため（{timeout}を超えて途絶えると"
        "スキャンは終わります）、件数を減らしません。"
    ),
    "scans.basis_scaled": (
        "Durumeric et al., 2014の定義。/8で100アドレスという同論文のしきい値をこのダークネットの"
        "規模に換算し、下限を{floor}としたもの"
    ),
    "scans.basis_set": "宛先数のしきい値はDurumeric et al., 2014のものに代えてこのレポートで指定",
    "scans.tags": "このうち、スキャンツールの特徴を持つものは{items}でした。",
    "scans.tag_item": "{tag}が{n}件",
    "scans.table": "スキャンの多かった宛先ポート",
    "dos.text": (
        "送信元を詐称したDoS攻撃を受けたホストは、詐称されたアドレスに応答を返します。"
        "センサーに届いたこの応答（バックスキャッタ）から、Mooreらの手法とCAIDAのcorsaroの"
        "閾値（{min_packets}パケット以上、{min_duration}以上、60秒間に{min_ppm}パケット以上）で"
        "推定したDoS攻撃は{events}件、攻撃を受けたホストは{actors}件でした。"
    ),
    "dos.rate_hidden": (
        "最大の攻撃レートは、インターネット全体で毎秒{rate}パケットと推定されます"
        "（パケット数の95%区間で{low}～{high}）。ダークネットでの観測値をIPv4アドレス空間全体に"
        "拡大した値で、攻撃者が送信元アドレスをIPv4アドレス空間全体から一様に詐称したと仮定して"
        "います。詐称の範囲が狭い場合は過大な推定になります。"
    ),
    "dos.rate": (
        "最大の攻撃レートは、インターネット全体で毎秒{rate}パケットと推定されます"
        "（パケット数の95%区間で{low}～{high}）。ダークネットで観測した毎秒{observed}パケットを"
        "{scale}倍（2^32 ÷ ダークネットのアドレス数）した値で、攻撃者が送信元アドレスを"
        "IPv4アドレス空間全体から一様に詐称したと仮定しています。詐称の範囲が狭い場合は過大な推定になります。"
    ),
    "dos.rate_observed": "ダークネットで観測した攻撃レートの最大値は毎秒{observed}パケットでした。",
    "dos.rate_small": (
        "インターネット全体での攻撃レートは推定していません。観測値を「2^32 ÷ ダークネットの"
        "アドレス数」倍して推定するのはダークネットが{min}アドレス（/16）以上の場合に限っており、"
        "今回の観測網はそれより小さいためです。"
    ),
    "dos.rate_undeclared": (
        "インターネット全体での攻撃レートは推定していません。一部のセンサーのアドレス数が"
        "申告されておらず、観測されたアドレス数から推定しても上限値にしかならないためです。"
    ),
    "dos.countries": (
        "被害ホストの地域を攻撃件数（同数の場合は被害ホスト数、パケット数）の順に並べると、"
        "{items}でした。"
    ),
    "dos.region": "{regions}（{n}件）",
    "dos.region_one": "{regions}（1件）",
    "dos.region_tie": "{regions}（各{n}件）",
    "dos.region_more": "{regions}ほか{more}地域（各{n}件）",
    "dos.region_sep": "、次いで",
    "dos.focus": "{country}国内の被害ホストは{victims}件（攻撃{attacks}件）でした。",
    "dos.focus_none": "{country}国内の被害ホストは観測されませんでした。",
    "dos.table": "規模の大きかったDoS攻撃（被害ホストのアドレスは掲載していません）",
    "events.withheld": "送信元がセンサーのアドレスであった{n}件は集計から除いています。",
    "events.figure": "スキャンとDoS攻撃の日別件数",
    "series.scans": "スキャン",
    "series.dos": "DoS攻撃",
    "events.none_scans": "観測期間中、条件を満たすスキャンはありませんでした。",
    "events.none_dos": "観測期間中、条件を満たすDoS攻撃はありませんでした。",
    # method
    "method.observation": "観測方法",
    "method.sensors_hidden": (
        "本レポートは、インターネット上で使用されていないIPアドレス（ダークネット）に設置した"
        "センサーで受信したパケットを集計したものです。センサーの台数、アドレス数およびアドレスは"
        "公開していません（パケット数はセンサー1台あたりの値と割合で示しています）。"
        "未使用のアドレスに届くパケットはすべて一方的に送られたものであり、その傾向から"
        "インターネット全体の脅威の動向を推測できます。"
    ),
    "method.days": "観測期間と日別の集計は、協定世界時（UTC）の0時で日付を区切っています。",
    "method.days_local": (
        "観測期間と日別の集計は、協定世界時（UTC）の0時で日付を区切っています"
        "（{zone}では各日の{time}から翌日の{time}まで）。"
    ),
    "method.times": "本文と表の時刻は{zone}で示しています。",
    "method.daily_rounded": "図の日別の値は有効数字{digits}桁に丸めています。",
    "method.reproduce": "再現のための情報",
    "method.version": "作成に用いたソフトウェア: teiten {version}",
    "method.digest": "観測期間のデータのダイジェスト: {digest}",
    "method.settings": (
        "集計の設定: 順位の指標は{metric}、上位{top}位まで、個別に取り上げた国・地域は{country}"
    ),
    "method.config": "レポート設定ファイル: {name}（{digest}）",
    "method.config_none": "レポート設定ファイル: なし（既定の設定）",
    "method.command": (
        "本レポートを再作成するコマンド（--storeには上記のダイジェストのデータを持つストアを"
        "指定）: {command}"
    ),
    "colophon.publisher": "発行: {organisation}",
    "colophon.contact": "お問い合わせ: {contact}",
    "colophon.disclaimer": "免責事項: {text}",
    "disclaimer.default": (
        "本レポートの内容は、ダークネットでの観測結果に基づくものであり、その正確性、完全性を"
        "保証するものではありません。本レポートの情報を利用したことにより生じたいかなる損害に"
        "ついても、{publisher}は責任を負いません。"
    ),
    "disclaimer.publisher": "発行者",
    "method.sensors": (
        "本レポートは、インターネット上で使用されていないIPアドレス（ダークネット）に設置した"
        "{sensors}台のセンサー（合計{size}アドレス{size_note}）で受信したパケットを集計したもの"
        "です。センサーのアドレスは公開していません。未使用のアドレスに届くパケットはすべて"
        "一方的に送られたものであり、その傾向からインターネット全体の脅威の動向を推測できます。"
    ),
    "method.size.declared": "",
    "method.size.observed": "。期間中に観測された宛先アドレス数で、実際の規模の下限",
    "method.size.mixed": "。一部のセンサーは観測された宛先アドレス数で、実際の規模の下限",
    "method.size.none": "",
    "method.data": "データソース",
    "method.geo": "送信元地域の判定: {database}（{edition}）",
    "method.geo_none": "送信元地域の判定: 観測期間のデータがありません",
    "method.knowledge": "ポートに関する情報: teitenナレッジベース {edition}版",
    "method.import": "脆弱性情報: {source}（{version}、{date}）",
    "method.services": (
        "サービス名: teitenナレッジベース、それにないポートは"
        "IANAのポート番号レジストリ（{edition}版）"
    ),
    "method.definitions": "指標と用語の定義",
    "def.packets": "パケット数: 観測期間中にセンサーが受信したパケットの数。",
    "def.per-sensor": (
        "センサー1台あたりのパケット数: パケット数を、期間中に1パケット以上を受信したセンサーの"
        "台数で割った値（日別の推移では、その日に受信のあったセンサーの台数で割った値）。"
    ),
    "def.sources": "送信元IPアドレス数: パケットを送信した異なるIPアドレスの数。",
    "def.share": "割合: 期間中の探索パケット全体（送信元数の指標では送信元全体）に占める割合。",
    "def.previous": (
        "{previous}順位: {previous}の全件を対象とした順位。10位より下の場合、または"
        "{previous}に観測がなかった場合は「TOP10外」、{previous}のデータ自体がない場合は"
        "「－」と表記します。"
    ),
    "def.probe": (
        "探索パケット（プローブ）: 接続を試みるパケット。ACKを伴わないTCP SYN、UDP、"
        "ICMPの要求（エコー要求など）。順位表はこれを集計しています。"
    ),
    "def.backscatter": (
        "バックスキャッタ: 送信元を詐称された通信への応答。TCP SYN/ACKとRST、ICMPの応答と"
        "エラー通知。DoS攻撃の推定に用います。"
    ),
    "def.other": "その他: 上記のいずれにも当たらないパケット。",
    "def.region": (
        "送信元地域: 送信元IPアドレスの割り当て国・地域。取り込み時に上記のデータベースで判定して"
        "います。"
    ),
}


def format_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def span(kind: str, first: date, last: date) -> str | None:
    """A quarter, month or year as a title says it: 2019年4月～6月, 2019年4月, 2019年."""
    if kind == "quarter":
        return f"{first.year}年{first.month}月{RANGE}{last.month}月"
    if kind == "month":
        return f"{first.year}年{first.month}月"
    if kind == "year":
        return f"{first.year}年"
    return None  # weeks, days and ranges: the dates themselves


def axis_date(day: date, with_year: bool) -> str:
    return f"{day.year}/{day.month}/{day.day}" if with_year else f"{day.month}/{day.day}"


def duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s}秒"
    if s < 3600:
        return f"{s // 60}分{s % 60}秒" if s % 60 and s < 600 else f"{s // 60}分"
    return f"{s // 3600}時間{s % 3600 // 60}分"


def large(value: float) -> str:
    """A large rate in Japanese units: 190万, 3.2億."""
    for scale, unit in ((1e12, "兆"), (1e8, "億"), (1e4, "万")):
        if value >= scale:
            return f"{value / scale:,.1f}{unit}"
    return f"{value:,.1f}"
