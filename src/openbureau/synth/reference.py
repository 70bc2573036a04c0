"""Reference lists the generator draws from: surnames, given-name syllables, places.

Names are romanised (Hanyu Pinyin), as furnishers' systems hold them; alternative spellings
(Wade-Giles, Cantonese) are what real files contain for the same person.
"""

from __future__ import annotations

# (pinyin surname, relative frequency, alternative romanisations)
SURNAMES: list[tuple[str, float, tuple[str, ...]]] = [
    ("Wang", 7.1, ("Wong",)), ("Li", 7.0, ("Lee", "Lei")), ("Zhang", 6.7, ("Chang", "Cheung")),
    ("Liu", 5.4, ("Lau", "Lew")), ("Chen", 4.5, ("Chan", "Tan")), ("Yang", 3.1, ("Yeung",)),
    ("Huang", 2.2, ("Hwang", "Wong")), ("Zhao", 2.0, ("Chao", "Chiu")), ("Wu", 2.0, ("Ng", "Woo")),
    ("Zhou", 1.9, ("Chou", "Chow")), ("Xu", 1.5, ("Hsu", "Hui")), ("Sun", 1.5, ("Suen",)),
    ("Ma", 1.4, ("Mah",)), ("Zhu", 1.3, ("Chu", "Choo")), ("Hu", 1.3, ("Woo",)),
    ("Guo", 1.2, ("Kuo", "Kwok")), ("He", 1.2, ("Ho",)), ("Gao", 1.1, ("Kao", "Ko")),
    ("Lin", 1.1, ("Lam", "Lim")), ("Luo", 1.0, ("Lo", "Law")), ("Zheng", 1.0, ("Cheng",)),
    ("Liang", 0.9, ("Leung",)), ("Xie", 0.8, ("Hsieh", "Tse")), ("Song", 0.7, ("Sung",)),
    ("Tang", 0.7, ("Tong",)), ("Han", 0.6, ("Hon",)), ("Feng", 0.6, ("Fung",)),
    ("Deng", 0.6, ("Teng", "Tang")), ("Cao", 0.6, ("Tsao", "Cho")), ("Peng", 0.6, ("Pang",)),
    ("Zeng", 0.5, ("Tseng", "Tsang")), ("Xiao", 0.5, ("Hsiao", "Siu")), ("Tian", 0.5, ("Tien",)),
    ("Dong", 0.5, ("Tung",)), ("Pan", 0.5, ("Poon",)), ("Yuan", 0.5, ("Yuen",)),
    ("Cai", 0.4, ("Tsai", "Choi")), ("Jiang", 0.4, ("Chiang", "Keung")), ("Yu", 0.4, ("Yue",)),
    ("Du", 0.4, ("Tu", "To")), ("Ye", 0.4, ("Yeh", "Yip")), ("Cheng", 0.4, ("Ching",)),
    ("Wei", 0.4, ("Wai",)), ("Su", 0.4, ("Soo",)), ("Lu", 0.4, ("Lo", "Loh")),
    ("Ding", 0.3, ("Ting",)), ("Ren", 0.3, ("Jen", "Yam")), ("Shen", 0.3, ("Shum",)),
    ("Yao", 0.3, ("Yiu",)), ("Cui", 0.3, ("Tsui",)), ("Zhong", 0.3, ("Chung",)),
    ("Tan", 0.3, ("Tam",)), ("Fan", 0.3, ("Faan",)), ("Liao", 0.3, ("Liu",)),
    ("Shi", 0.3, ("Shih", "Sze")), ("Jin", 0.3, ("Chin", "Kam")), ("Jia", 0.2, ("Chia",)),
    ("Xia", 0.2, ("Hsia", "Ha")), ("Fu", 0.2, ("Foo",)), ("Fang", 0.2, ("Fong",)),
    ("Zou", 0.2, ("Tsou", "Chau")), ("Xiong", 0.2, ("Hsiung", "Hung")), ("Bai", 0.2, ("Pai", "Pak")),
    ("Meng", 0.2, ("Mang",)), ("Qin", 0.2, ("Chin", "Chun")), ("Qiu", 0.2, ("Chiu", "Yau")),
    ("Hou", 0.2, ("Hau",)), ("Yin", 0.2, ("Yan", "Wan")), ("Xue", 0.2, ("Hsueh", "Sit")),
    ("Yan", 0.2, ("Yen", "Yim")), ("Duan", 0.2, ("Tuan", "Tuen")), ("Lei", 0.2, ("Lui",)),
    ("Long", 0.1, ("Lung",)), ("Tao", 0.1, ("Tou",)), ("Mao", 0.1, ("Mo",)),
    ("Gu", 0.1, ("Ku", "Koo")), ("Gong", 0.1, ("Kung",)), ("Shao", 0.1, ("Shiu",)),
    ("Qian", 0.1, ("Chien",)), ("Wan", 0.1, ("Man",)),
]

GIVEN_SYLLABLES: list[str] = [
    "wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan",
    "jie", "juan", "tao", "ming", "chao", "xiu", "xia", "ping", "gang", "gui", "hua", "hui",
    "hong", "jian", "ling", "lan", "mei", "qing", "rong", "ning", "xin", "xiao", "yu", "yun",
    "zhen", "zhi", "hao", "bo", "bin", "chen", "dan", "dong", "feng", "fei", "guo", "hai",
    "jia", "kai", "lin", "long", "peng", "qi", "rui", "shan", "shu", "song", "ting", "wen",
    "xiang", "xue", "yi", "ying", "yue", "zhong", "zi", "heng", "kun", "lu", "man", "nan",
    "pei", "qian", "sheng", "tian", "xi", "yao", "ze", "hang", "cheng", "chun", "de", "en",
    "fu", "han", "jiang", "kang", "liang", "mu", "nuo", "ou", "rou", "shuang", "wan", "xuan",
]

# Wade-Giles-style respellings of pinyin syllable parts, applied initial first, then final.
WADE_GILES_INITIALS: list[tuple[str, str]] = [
    ("zh", "ch"), ("ch", "ch'"), ("x", "hs"), ("q", "ch'"), ("j", "ch"), ("z", "ts"),
    ("c", "ts'"), ("r", "j"), ("b", "p"), ("d", "t"), ("g", "k"),
]
WADE_GILES_FINALS: list[tuple[str, str]] = [
    ("iong", "iung"), ("ong", "ung"), ("ian", "ien"), ("ie", "ieh"),
]

# (code, city, income multiplier, population weight): the first two digits of the resident id
PROVINCES: list[tuple[str, str, float, float]] = [
    ("11", "Beijing", 1.9, 2.2), ("12", "Tianjin", 1.4, 1.4), ("13", "Shijiazhuang", 0.9, 5.3),
    ("14", "Taiyuan", 0.8, 2.5), ("15", "Hohhot", 0.9, 1.7), ("21", "Shenyang", 0.9, 3.0),
    ("22", "Changchun", 0.8, 1.7), ("23", "Harbin", 0.8, 2.2), ("31", "Shanghai", 2.0, 2.5),
    ("32", "Nanjing", 1.4, 6.0), ("33", "Hangzhou", 1.5, 4.6), ("34", "Hefei", 0.9, 4.3),
    ("35", "Fuzhou", 1.1, 2.9), ("36", "Nanchang", 0.8, 3.2), ("37", "Jinan", 1.0, 7.2),
    ("41", "Zhengzhou", 0.8, 7.0), ("42", "Wuhan", 1.0, 4.1), ("43", "Changsha", 0.9, 4.7),
    ("44", "Guangzhou", 1.4, 9.0), ("45", "Nanning", 0.8, 3.5), ("46", "Haikou", 0.9, 0.7),
    ("50", "Chongqing", 1.0, 2.3), ("51", "Chengdu", 0.9, 5.9), ("52", "Guiyang", 0.7, 2.7),
    ("53", "Kunming", 0.7, 3.3), ("54", "Lhasa", 0.8, 0.3), ("61", "Xi'an", 0.9, 2.8),
    ("62", "Lanzhou", 0.6, 1.8), ("63", "Xining", 0.7, 0.4), ("64", "Yinchuan", 0.7, 0.5),
    ("65", "Urumqi", 0.8, 1.8),
]

STREETS: list[str] = [
    "Jiefang", "Renmin", "Zhongshan", "Heping", "Jianshe", "Xinhua", "Wenhua", "Dongfeng",
    "Chaoyang", "Yingbin", "Changjiang", "Huanghe", "Xingfu", "Minzhu", "Gongye", "Nongye",
    "Shengli", "Guangming", "Tiyu", "Youyi", "Qingnian", "Xueyuan", "Keji", "Jinqiao",
    "Binhe", "Huancheng", "Zhanqian", "Fuqian", "Beijing", "Nanjing", "Shanghai", "Guangzhou",
    "Hongqi", "Taiping", "Fuxing", "Yuhua", "Baiyun", "Tianhe", "Longhua", "Xiangyang",
    "Chunhui", "Qiushi", "Huaihai", "Siping", "Wuyi", "Dongda", "Xida", "Nanhu", "Beihu",
    "Jinxiu", "Yuanlin", "Meilin", "Taoyuan", "Lianhua", "Songshan", "Qinghe", "Shuguang",
]
STREET_KINDS: list[tuple[str, str]] = [
    ("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"), ("Lane", "Ln"),
]
DISTRICTS: list[str] = [
    "Chaoyang", "Haidian", "Xicheng", "Dongcheng", "Pudong", "Xuhui", "Tianhe", "Yuexiu",
    "Jinjiang", "Wuhou", "Jianghan", "Gulou", "Xuanwu", "Xihu", "Shangcheng", "Lixia",
    "Shinan", "Yanta", "Beilin", "Nanming", "Wuhua", "Heping", "Nankai", "Hexi", "Futian",
    "Luohu", "Nanshan", "Baoan", "Longgang", "Jiangbei",
]

# Merchant category codes (ISO 18245) for outgoing payments, and what they say about risk.
MCC_CATEGORIES: list[tuple[str, str]] = [
    ("5411", "groceries"), ("5812", "restaurants"), ("5541", "fuel"), ("4111", "transit"),
    ("4900", "utilities"), ("4814", "telecom"), ("5651", "clothing"), ("5732", "electronics"),
    ("5912", "pharmacy"), ("5311", "department store"), ("6011", "cash withdrawal"),
    ("6051", "quasi-cash"), ("7995", "gambling"), ("6012", "loan repayment"),
]
CASH_LIKE_MCC = frozenset({"6011", "6051"})
HIGH_RISK_MCC = frozenset({"7995", "6051"})

__all__ = [
    "CASH_LIKE_MCC",
    "DISTRICTS",
    "GIVEN_SYLLABLES",
    "HIGH_RISK_MCC",
    "MCC_CATEGORIES",
    "PROVINCES",
    "STREETS",
    "STREET_KINDS",
    "SURNAMES",
    "WADE_GILES_FINALS",
    "WADE_GILES_INITIALS",
]
