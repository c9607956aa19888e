"""Name lists for the synthetic population: forenames, surnames and the variants people use.

Common given names and family names of the communities of the West Midlands, grouped so that
a person's forename, surname and self-defined ethnicity fit together. Every person built from
them is synthetic: names are combined at random and belong to nobody.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NameGroup:
    """Names that go together, with the ethnicity codes (18+1) people in the group give."""

    weight: float
    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames: tuple[str, ...]
    ethnicities: tuple[tuple[str, float], ...]


_BRITISH_MALE = (
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Christopher", "Daniel",
    "Matthew", "Anthony", "Mark", "Paul", "Steven", "Andrew", "Joshua", "Kevin", "Brian", "George",
    "Edward", "Ronald", "Timothy", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric",
    "Jonathan", "Stephen", "Lee", "Dean", "Craig", "Wayne", "Darren", "Carl", "Shaun", "Liam",
    "Callum", "Connor", "Kyle", "Jack", "Harry", "Oliver", "Charlie", "Alfie", "Samuel", "Benjamin",
    "Alexander", "Joseph", "Peter", "Kenneth", "Terence", "Gregory", "Patrick", "Charles", "Keith", "Graham",
    "Ian", "Neil", "Martin", "Simon", "Adam", "Luke", "Nathan", "Aaron", "Jamie", "Reece",
    "Bradley", "Jordan", "Leon", "Tyler", "Mason", "Ethan", "Noah", "Leo", "Archie", "Freddie",
)
_BRITISH_FEMALE = (
    "Mary", "Patricia", "Jennifer", "Elizabeth", "Susan", "Margaret", "Sarah", "Karen", "Nancy", "Lisa",
    "Emma", "Michelle", "Laura", "Rebecca", "Samantha", "Katherine", "Catherine", "Victoria", "Deborah", "Amanda",
    "Jacqueline", "Christine", "Theresa", "Kimberley", "Natalie", "Abigail", "Jessica", "Charlotte", "Emily", "Olivia",
    "Amelia", "Isla", "Ava", "Sophie", "Chloe", "Lucy", "Hannah", "Megan", "Lauren", "Leanne",
    "Kelly", "Stacey", "Gemma", "Claire", "Joanne", "Nicola", "Louise", "Helen", "Julie", "Tracey",
    "Donna", "Dawn", "Paula", "Sharon", "Alexandra", "Eleanor", "Grace", "Ella", "Poppy", "Evie",
    "Zoë", "Renée", "Siân", "Jade", "Kirsty", "Shannon", "Chelsea", "Amy", "Holly", "Rachel",
)
_BRITISH_SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
    "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
    "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths",
    "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy",
    "Miller", "Cox", "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh",
    "Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali",
    "Hunt", "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight",
    "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
    "Graham", "Pearson", "Ahmed", "Fletcher", "Walsh", "Kaur", "Gibson", "Howard", "Andrews", "Stewart",
    "Elliott", "Reynolds", "Saunders", "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks", "West",
    "Lawrence", "Cole", "Atkinson", "Bradley", "Spencer", "Gill", "Dawson", "Ball", "Burton", "O'Brien",
    "Watts", "Rose", "Booth", "Perry", "Ryan", "Grant", "Wells", "Armstrong", "Francis", "Rees",
    "Hayes", "Hart", "Hudson", "Newman", "Barrett", "Webster", "Hunter", "Gregory", "Carr", "Lowe",
    "Page", "Marsh", "Riley", "Dunn", "Woods", "Parsons", "Berry", "Stone", "Reid", "Holland",
    "Hawkins", "Harding", "Porter", "Robertson", "Newton", "Oliver", "Reed", "Kennedy", "Williamson", "Bird",
    "Gardner", "Shah", "Dean", "Lane", "Cooke", "Bates", "Henderson", "Parry", "Burgess", "Bishop",
    "Walton", "Burns", "Nicholson", "Shepherd", "Ross", "Cross", "Long", "Freeman", "Warren", "Nicholls",
    "Hamilton", "Byrne", "Sutton", "McDonald", "Yates", "Hodgson", "Robson", "Curtis", "Hopkins", "O'Connor",
    "Smith-Jones", "Ashworth-Hall", "Bradbury", "Whitehouse", "Hadley", "Cartwright", "Aston", "Duffield",
)
_PAKISTANI_MALE = (
    "Mohammed", "Muhammad", "Imran", "Asif", "Tariq", "Zahid", "Shahid", "Amir", "Bilal", "Usman",
    "Adnan", "Kamran", "Faisal", "Irfan", "Nadeem", "Waqas", "Zeeshan", "Haroon", "Junaid", "Rizwan",
    "Ibrahim", "Yusuf", "Hamza", "Zain", "Ayaan", "Omar", "Abdul", "Naveed", "Sajid", "Arshad",
)
_PAKISTANI_FEMALE = (
    "Ayesha", "Fatima", "Sana", "Nadia", "Sadia", "Rabia", "Saima", "Shazia", "Asma", "Farah",
    "Amina", "Zainab", "Maryam", "Hira", "Iqra", "Mahnoor", "Noor", "Samina", "Rukhsana", "Nasreen",
    "Aisha", "Hafsa", "Khadija", "Sumaira", "Tahira",
)
_PAKISTANI_SURNAMES = (
    "Khan", "Hussain", "Ahmed", "Ali", "Akhtar", "Iqbal", "Mahmood", "Rashid", "Aslam", "Butt",
    "Mirza", "Qureshi", "Malik", "Raza", "Shah", "Bibi", "Begum", "Javed", "Younis", "Anwar",
    "Sadiq", "Riaz", "Nawaz", "Hanif", "Latif", "Saleem", "Arif", "Zaman", "Yousaf", "Rehman",
)
_INDIAN_MALE = (
    "Rajesh", "Sanjay", "Amit", "Vikram", "Arjun", "Ravi", "Sunil", "Deepak", "Harjit", "Gurpreet",
    "Jaswinder", "Manjit", "Sukhdev", "Kuldip", "Rohan", "Aarav", "Dev", "Nikhil", "Pritpal", "Balvinder",
    "Jatinder", "Hardeep", "Anil", "Suresh", "Kiran",
)
_INDIAN_FEMALE = (
    "Priya", "Anita", "Sunita", "Neha", "Pooja", "Kavita", "Rani", "Harpreet", "Manpreet", "Kamaljit",
    "Jaspreet", "Simran", "Anjali", "Divya", "Meena", "Asha", "Parminder", "Rajinder", "Navdeep", "Shreya",
)
_INDIAN_SURNAMES = (
    "Patel", "Singh", "Kaur", "Sharma", "Kumar", "Gill", "Sandhu", "Sidhu", "Dhillon", "Bains",
    "Johal", "Mistry", "Chauhan", "Parmar", "Solanki", "Mehta", "Shah", "Joshi", "Virdee", "Atwal",
    "Bhogal", "Sahota", "Grewal", "Basra", "Chahal",
)
_BANGLADESHI_MALE = (
    "Abdul", "Mohammed", "Rahim", "Karim", "Shamim", "Jamal", "Rafiq", "Habib", "Anwar", "Sohel", "Nazrul", "Faruk",
)
_BANGLADESHI_FEMALE = (
    "Nazma", "Rahima", "Salma", "Shirin", "Jesmin", "Rokeya", "Sultana", "Ruksana", "Farzana", "Taslima", "Shahnaz",
    "Rumana",
)
_BANGLADESHI_SURNAMES = (
    "Miah", "Uddin", "Rahman", "Islam", "Begum", "Hoque", "Chowdhury", "Ahmed", "Ali", "Khatun", "Hossain", "Alam",
)
_CARIBBEAN_MALE = (
    "Delroy", "Winston", "Leroy", "Marcus", "Tyrone", "Andre", "Devon", "Jermaine", "Curtis", "Clive",
    "Errol", "Desmond", "Trevor", "Kareem", "Jerome", "Dwayne", "Shane", "Kemar", "Elijah", "Isaiah",
)
_CARIBBEAN_FEMALE = (
    "Marcia", "Beverley", "Sonia", "Claudette", "Yvonne", "Jasmine", "Keisha", "Tanisha", "Shanice", "Aaliyah",
    "Maxine", "Paulette", "Janice", "Simone", "Nia", "Tiana",
)
_CARIBBEAN_SURNAMES = (
    "Campbell", "Brown", "Williams", "Thompson", "Johnson", "Francis", "Grant", "Clarke", "Henry", "Reid",
    "Lewis", "Morgan", "Gordon", "Bailey", "Robinson", "Stewart", "Edwards", "Gayle", "Powell", "McKenzie",
)
_AFRICAN_MALE = (
    "Emmanuel", "Samuel", "Oluwaseun", "Chinedu", "Kwame", "Kofi", "Tendai", "Abdi", "Mohamed", "Ahmed",
    "Joseph", "Daniel", "Tunde", "Femi", "Chukwuemeka", "Yaw", "Tafadzwa", "Ibrahima",
)
_AFRICAN_FEMALE = (
    "Blessing", "Grace", "Chioma", "Adaeze", "Ama", "Abena", "Fartun", "Hodan", "Nkechi", "Funmilayo",
    "Ruth", "Esther", "Precious", "Rutendo", "Amara", "Fatuma",
)
_AFRICAN_SURNAMES = (
    "Okafor", "Adeyemi", "Mensah", "Boateng", "Osei", "Abdi", "Mohamed", "Hassan", "Okonkwo", "Adebayo",
    "Mwangi", "Moyo", "Ncube", "Oyelaran", "Asante", "Owusu", "Nwosu", "Farah", "Ibrahim", "Diallo",
)
_EAST_EUROPEAN_MALE = (
    "Piotr", "Tomasz", "Krzysztof", "Marcin", "Pawel", "Andrzej", "Jakub", "Mateusz", "Adrian", "Ionut",
    "Andrei", "Mihai", "Florin", "Marius", "Darius", "Lukas", "Martin", "Tomas",
)
_EAST_EUROPEAN_FEMALE = (
    "Anna", "Katarzyna", "Agnieszka", "Magdalena", "Joanna", "Monika", "Ewa", "Natalia", "Ioana", "Elena",
    "Andreea", "Maria", "Alina", "Daria", "Simona", "Lucia",
)
_EAST_EUROPEAN_SURNAMES = (
    "Nowak", "Kowalski", "Wisniewski", "Wojcik", "Kowalczyk", "Kaminski", "Lewandowski", "Zielinski", "Szymanski",
    "Wozniak", "Popescu", "Ionescu", "Popa", "Constantin", "Dumitru", "Stan", "Kazlauskas", "Petrauskas", "Horvath",
    "Novak",
)
_IRISH_MALE = (
    "Sean", "Patrick", "Declan", "Ciaran", "Niall", "Eoin", "Conor", "Padraig", "Brendan", "Kieran", "Liam", "Cormac",
)
_IRISH_FEMALE = (
    "Siobhan", "Aoife", "Niamh", "Sinead", "Roisin", "Ciara", "Orla", "Bridget", "Maeve", "Grainne", "Deirdre",
    "Mairead",
)
_IRISH_SURNAMES = (
    "Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Brien", "Byrne", "Ryan", "O'Connor", "O'Neill", "Doyle",
    "McCarthy", "Gallagher", "Doherty", "Kennedy", "Lynch", "Quinn", "Brennan", "Flynn", "Maguire", "Duffy",
)
_CHINESE_MALE = ("Wei", "Jun", "Hao", "Ming", "Jian", "Lei", "Chen", "Kai", "Yong", "Tao")
_CHINESE_FEMALE = ("Mei", "Li", "Xin", "Yan", "Hui", "Ying", "Jing", "Lan", "Ting", "Fang")
_CHINESE_SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Lin", "Chan", "Wong", "Cheung",
)
_ARAB_MALE = (
    "Ahmad", "Khalid", "Hassan", "Hussein", "Mustafa", "Sami", "Tariq", "Walid", "Yasin", "Karim", "Nabil", "Fadi",
)
_ARAB_FEMALE = ("Layla", "Rania", "Yasmin", "Huda", "Dalia", "Nour", "Salma", "Reem", "Amal", "Lina", "Hanan", "Mona")
_ARAB_SURNAMES = (
    "Al-Sayed", "Haddad", "Nasser", "Hamdan", "Saleh", "Mansour", "Khalil", "Abdallah", "Darwish", "Youssef", "Al-Amin",
    "Aziz",
)

NAME_GROUPS: tuple[NameGroup, ...] = (
    NameGroup(0.52, _BRITISH_MALE, _BRITISH_FEMALE, _BRITISH_SURNAMES, (("W1", 0.93), ("W9", 0.02), ("NS", 0.05))),
    NameGroup(0.11, _PAKISTANI_MALE, _PAKISTANI_FEMALE, _PAKISTANI_SURNAMES, (("A2", 0.94), ("A9", 0.03), ("NS",
    0.03))),
    NameGroup(0.07, _INDIAN_MALE, _INDIAN_FEMALE, _INDIAN_SURNAMES, (("A1", 0.94), ("A9", 0.03), ("NS", 0.03))),
    NameGroup(0.025, _BANGLADESHI_MALE, _BANGLADESHI_FEMALE, _BANGLADESHI_SURNAMES, (("A3", 0.95), ("NS", 0.05))),
    NameGroup(0.05, _CARIBBEAN_MALE, _CARIBBEAN_FEMALE, _CARIBBEAN_SURNAMES, (("B1", 0.75), ("M1", 0.2), ("NS", 0.05))),
    NameGroup(0.05, _AFRICAN_MALE, _AFRICAN_FEMALE, _AFRICAN_SURNAMES, (("B2", 0.9), ("B9", 0.05), ("NS", 0.05))),
    NameGroup(0.04, _EAST_EUROPEAN_MALE, _EAST_EUROPEAN_FEMALE, _EAST_EUROPEAN_SURNAMES, (("W9", 0.95), ("NS", 0.05))),
    NameGroup(0.025, _IRISH_MALE, _IRISH_FEMALE, _IRISH_SURNAMES, (("W2", 0.85), ("W1", 0.1), ("W3", 0.05))),
    NameGroup(0.015, _CHINESE_MALE, _CHINESE_FEMALE, _CHINESE_SURNAMES, (("A4", 0.95), ("NS", 0.05))),
    NameGroup(0.015, _ARAB_MALE, _ARAB_FEMALE, _ARAB_SURNAMES, (("O1", 0.9), ("O9", 0.1))),
    NameGroup(0.03, _BRITISH_MALE + _CARIBBEAN_MALE, _BRITISH_FEMALE + _CARIBBEAN_FEMALE, _BRITISH_SURNAMES,
              (("M1", 0.4), ("M2", 0.15), ("M3", 0.3), ("M9", 0.15))),
)

# Forms of a forename people also go by: short forms and common spelling variants.
NAME_VARIANTS: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"), "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jon", "Johnny", "Jack"), "Jonathan": ("Jon", "Jonny"), "Michael": ("Mike", "Mick", "Micky"),
    "Christopher": ("Chris", "Kit"), "Richard": ("Rich", "Rick", "Richie"), "Thomas": ("Tom", "Tommy"),
    "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",), "Anthony": ("Tony", "Ant"), "Joseph": ("Joe", "Joey"),
    "David": ("Dave", "Davey"), "Stephen": ("Steve", "Steven"), "Steven": ("Steve", "Stephen"),
    "Andrew": ("Andy", "Drew"), "Edward": ("Ed", "Eddie", "Ted"), "Benjamin": ("Ben", "Benji"),
    "Samuel": ("Sam", "Sammy"), "Alexander": ("Alex", "Alec"), "Nicholas": ("Nick", "Nicky"),
    "Timothy": ("Tim",), "Patrick": ("Pat", "Paddy"), "Charles": ("Charlie", "Chas"), "Peter": ("Pete",),
    "Kenneth": ("Ken", "Kenny"), "Ronald": ("Ron", "Ronnie"), "Terence": ("Terry",), "Gregory": ("Greg",),
    "Joshua": ("Josh",), "Jacob": ("Jake",), "Frederick": ("Fred", "Freddie"), "Bradley": ("Brad",),
    "Elizabeth": ("Liz", "Beth", "Lizzie"), "Margaret": ("Maggie", "Peggy", "Meg"),
    "Katherine": ("Kate", "Kathy", "Katie", "Catherine"), "Catherine": ("Cath", "Kate", "Katherine"),
    "Jennifer": ("Jen", "Jenny"), "Rebecca": ("Becky", "Becca"), "Victoria": ("Vicky", "Tori"),
    "Susan": ("Sue", "Susie"), "Deborah": ("Debbie", "Debs"), "Samantha": ("Sam", "Sammy"),
    "Jessica": ("Jess",), "Charlotte": ("Lottie", "Charlie"), "Alexandra": ("Alex", "Lexi"),
    "Abigail": ("Abbie", "Abby"), "Natalie": ("Nat",), "Kimberley": ("Kim", "Kimberly"),
    "Patricia": ("Pat", "Trish"), "Christine": ("Chris", "Chrissie"), "Jacqueline": ("Jackie",),
    "Amanda": ("Mandy",), "Theresa": ("Tess", "Teresa"), "Eleanor": ("Ellie", "Elly"), "Olivia": ("Liv",),
    "Emily": ("Em", "Emilie"), "Nicola": ("Nicky", "Nikki"), "Gemma": ("Jemma",), "Leanne": ("Lee-Anne",),
    "Tracey": ("Tracy",), "Zoë": ("Zoe",), "Renée": ("Renee",), "Siân": ("Sian",),
    "Mohammed": ("Muhammad", "Mohammad", "Mohamed", "Mo"), "Muhammad": ("Mohammed", "Mohammad", "Mo"),
    "Mohamed": ("Mohammed", "Mohamud"), "Yusuf": ("Yousuf", "Yousef"), "Ibrahim": ("Ebrahim",),
    "Ayesha": ("Aisha", "Aysha"), "Aisha": ("Ayesha",), "Fatima": ("Fatimah",), "Zainab": ("Zaynab",),
    "Abdul": ("Abdool",), "Rajesh": ("Raj",), "Gurpreet": ("Gurprit",), "Jaswinder": ("Jas",),
    "Harjit": ("Harjeet",), "Oluwaseun": ("Seun", "Seyi"), "Chukwuemeka": ("Emeka",), "Funmilayo": ("Funmi",),
    "Piotr": ("Peter",), "Tomasz": ("Tom", "Tomek"), "Krzysztof": ("Chris", "Kris"), "Katarzyna": ("Kasia", "Kate"),
    "Jakub": ("Kuba", "Jacob"), "Pawel": ("Paul",), "Sean": ("Shaun", "Shawn"), "Shaun": ("Sean", "Shawn"),
    "Siobhan": ("Shevaun",), "Niamh": ("Neve",), "Aoife": ("Eva",), "Delroy": ("Del",), "Winston": ("Winnie",),
}

# Street names some people are known by in intelligence reports.
STREET_NAMES = (
    "Smudge", "Tank", "Dizzy", "Bigs", "Lil T", "Scrappy", "Ghost", "Ratty", "Spud", "Chalky",
    "Bones", "Tiny", "Skinny", "Red", "Mouse", "Snoop", "Shadow", "Fingers", "Doc", "Taz",
    "Sniper", "Blade", "Trigger", "Dolla", "Kash", "Zee", "Rocky", "Buzz", "Ace", "Nitro",
)

MALE_TITLES = (("Mr", 0.97), ("Dr", 0.03))
FEMALE_TITLES = (("Mrs", 0.45), ("Ms", 0.3), ("Miss", 0.22), ("Dr", 0.03))
