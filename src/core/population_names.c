/* Reference data of the synthetic population (see population_names.h).
 *
 * Lists are written once as X-macros so that the weights and their totals cannot drift apart:
 * the same list expands into the names, the weights and the sum. Surname frequencies follow
 * the INSEE ranking of French surnames (thousands of births 1891-2000, rounded); first-name
 * frequencies are relative popularity by generation; commune weights are inhabitants in tens
 * of thousands (at least 1). The insurer names are fictitious. */
#include "core/population_names.h"

#include <stddef.h>

#define NAME(n, w) n,
#define WEIGHT(n, w) w,
#define SUM(n, w) +(w)

/* clang-format off */
#define LAST_NAMES(X) \
    X("Martin", 235) X("Bernard", 105) X("Thomas", 100) X("Petit", 95) X("Robert", 95) \
    X("Richard", 93) X("Durand", 86) X("Dubois", 85) X("Moreau", 80) X("Laurent", 80) \
    X("Simon", 78) X("Michel", 77) X("Lefebvre", 75) X("Leroy", 72) X("Roux", 66) \
    X("David", 65) X("Bertrand", 64) X("Morel", 63) X("Fournier", 62) X("Girard", 61) \
    X("Bonnet", 59) X("Dupont", 59) X("Lambert", 58) X("Fontaine", 56) X("Rousseau", 55) \
    X("Vincent", 55) X("Muller", 54) X("Lefèvre", 53) X("Faure", 52) X("André", 52) \
    X("Mercier", 51) X("Blanc", 51) X("Guérin", 50) X("Boyer", 49) X("Garnier", 48) \
    X("Chevalier", 48) X("François", 47) X("Legrand", 46) X("Gauthier", 46) X("Garcia", 46) \
    X("Perrin", 45) X("Robin", 45) X("Clément", 44) X("Morin", 44) X("Nicolas", 43) \
    X("Henry", 43) X("Roussel", 42) X("Mathieu", 42) X("Gautier", 41) X("Masson", 41) \
    X("Marchand", 40) X("Duval", 40) X("Denis", 39) X("Dumont", 39) X("Marie", 38) \
    X("Lemaire", 38) X("Noël", 37) X("Meyer", 37) X("Dufour", 36) X("Meunier", 36) \
    X("Brun", 35) X("Blanchard", 35) X("Giraud", 35) X("Joly", 34) X("Rivière", 34) \
    X("Lucas", 34) X("Brunet", 33) X("Gaillard", 33) X("Barbier", 33) X("Arnaud", 32) \
    X("Martinez", 32) X("Gérard", 32) X("Roche", 31) X("Renard", 31) X("Schmitt", 31) \
    X("Roy", 31) X("Leroux", 30) X("Colin", 30) X("Vidal", 30) X("Caron", 30) \
    X("Picard", 29) X("Roger", 29) X("Fabre", 29) X("Aubert", 29) X("Lemoine", 28) \
    X("Renaud", 28) X("Dumas", 28) X("Lacroix", 28) X("Olivier", 27) X("Philippe", 27) \
    X("Bourgeois", 27) X("Pierre", 27) X("Benoît", 27) X("Rey", 26) X("Leclerc", 26) \
    X("Payet", 26) X("Rolland", 26) X("Leclercq", 26) X("Guillaume", 25) X("Lecomte", 25) \
    X("Lopez", 25) X("Jean", 25) X("Dupuy", 25) X("Guillot", 24) X("Hubert", 24) \
    X("Berger", 24) X("Carpentier", 24) X("Sanchez", 24) X("Dupuis", 24) X("Moulin", 23) \
    X("Louis", 23) X("Deschamps", 23) X("Huet", 23) X("Vasseur", 23) X("Perez", 23) \
    X("Boucher", 22) X("Fleury", 22) X("Royer", 22) X("Klein", 22) X("Jacquet", 22) \
    X("Adam", 22) X("Paris", 22) X("Poirier", 21) X("Marty", 21) X("Aubry", 21) \
    X("Guyot", 21) X("Carré", 21) X("Charles", 21) X("Renault", 21) X("Charpentier", 21) \
    X("Ménard", 20) X("Maillard", 20) X("Baron", 20) X("Bertin", 20) X("Bailly", 20) \
    X("Hervé", 20) X("Schneider", 20) X("Fernandez", 20) X("Le Gall", 20) X("Collet", 19) \
    X("Léger", 19) X("Bouvier", 19) X("Julien", 19) X("Prévost", 19) X("Millet", 19) \
    X("Perrot", 19) X("Daniel", 19) X("Le Roux", 19) X("Cousin", 18) X("Germain", 18) \
    X("Breton", 18) X("Besson", 18) X("Langlois", 18) X("Rémy", 18) X("Le Goff", 18) \
    X("Pelletier", 18) X("Lévêque", 18) X("Perrier", 18) X("Leblanc", 18) X("Barré", 17) \
    X("Lebrun", 17) X("Marchal", 17) X("Weber", 17) X("Mallet", 17) X("Hamon", 17) \
    X("Boulanger", 17) X("Jacob", 17) X("Monnier", 17) X("Michaud", 17) X("Rodriguez", 17) \
    X("Guichard", 17) X("Gillet", 17) X("Étienne", 16) X("Grondin", 16) X("Poulain", 16) \
    X("Tessier", 16) X("Chevallier", 16) X("Collin", 16) X("Chauvin", 16) X("Da Silva", 16) \
    X("Bouchet", 16) X("Gay", 16) X("Lemaître", 16) X("Bénard", 16) X("Maréchal", 16) \
    X("Humbert", 16) X("Reynaud", 16) X("Antoine", 16) X("Hoarau", 16) X("Perret", 16) \
    X("Barthélemy", 16) X("Cordier", 16) X("Pichon", 15) X("Lejeune", 15) X("Gilbert", 15) \
    X("Lamy", 15) X("Delaunay", 15) X("Pasquier", 15) X("Carlier", 15) X("Laporte", 15)

/* First names: X(name, weight born before 1970, 1970-1999, from 2000). */
#define FEMALE_NAMES(X) \
    X("Marie", 90, 20, 10) X("Jeanne", 30, 2, 15) X("Françoise", 60, 1, 0) \
    X("Monique", 50, 0, 0) X("Catherine", 60, 10, 0) X("Nathalie", 30, 60, 0) \
    X("Isabelle", 40, 50, 0) X("Sylvie", 50, 25, 0) X("Martine", 55, 2, 0) \
    X("Christine", 50, 15, 0) X("Nicole", 45, 0, 0) X("Anne", 40, 20, 2) \
    X("Brigitte", 40, 2, 0) X("Valérie", 15, 45, 0) X("Sandrine", 5, 55, 0) \
    X("Stéphanie", 5, 55, 1) X("Céline", 1, 55, 2) X("Sophie", 10, 45, 3) \
    X("Véronique", 25, 30, 0) X("Chantal", 40, 1, 0) X("Dominique", 30, 3, 0) \
    X("Annie", 35, 0, 0) X("Michèle", 40, 0, 0) X("Danielle", 35, 0, 0) \
    X("Jacqueline", 45, 0, 0) X("Hélène", 25, 15, 3) X("Patricia", 30, 25, 0) \
    X("Laurence", 20, 35, 0) X("Corinne", 15, 40, 0) X("Christiane", 35, 0, 0) \
    X("Aurélie", 0, 45, 2) X("Émilie", 0, 45, 5) X("Julie", 1, 50, 10) \
    X("Audrey", 0, 40, 2) X("Caroline", 5, 40, 3) X("Virginie", 2, 40, 0) \
    X("Élodie", 0, 40, 3) X("Karine", 3, 40, 0) X("Laetitia", 0, 35, 0) \
    X("Mélanie", 0, 35, 3) X("Claire", 10, 25, 8) X("Camille", 1, 15, 40) \
    X("Laura", 0, 15, 30) X("Sarah", 0, 20, 35) X("Manon", 0, 5, 45) \
    X("Léa", 0, 5, 55) X("Chloé", 0, 8, 45) X("Emma", 0, 1, 50) \
    X("Inès", 0, 3, 35) X("Jade", 0, 1, 40) X("Louise", 2, 1, 40) \
    X("Alice", 2, 3, 35) X("Lina", 0, 0, 25) X("Zoé", 0, 2, 30) \
    X("Juliette", 1, 4, 30) X("Lola", 0, 2, 25) X("Clara", 0, 4, 30) \
    X("Lucie", 1, 12, 25) X("Mathilde", 0, 10, 25) X("Pauline", 1, 30, 15) \
    X("Marion", 0, 30, 10) X("Anaïs", 0, 20, 20) X("Océane", 0, 10, 25) \
    X("Margaux", 0, 8, 25) X("Charlotte", 1, 15, 25) X("Eva", 0, 2, 25) \
    X("Rose", 1, 0, 25) X("Ambre", 0, 0, 25) X("Agathe", 0, 1, 15) \
    X("Romane", 0, 1, 20) X("Margot", 0, 4, 15) X("Maëlys", 0, 0, 15) \
    X("Lou", 0, 0, 20) X("Anna", 1, 2, 20) X("Mia", 0, 0, 15) \
    X("Nina", 0, 2, 15) X("Élise", 2, 3, 10) X("Julia", 0, 5, 20) \
    X("Justine", 0, 20, 10) X("Morgane", 0, 20, 5) X("Amandine", 0, 25, 3) \
    X("Gaëlle", 1, 20, 2) X("Odile", 20, 0, 0) X("Josiane", 25, 0, 0) \
    X("Colette", 25, 0, 0) X("Geneviève", 25, 0, 0) X("Yvette", 20, 0, 0) \
    X("Simone", 20, 0, 2) X("Denise", 20, 0, 0) X("Évelyne", 25, 1, 0) \
    X("Joëlle", 20, 1, 0) X("Éliane", 15, 0, 0) X("Béatrice", 20, 10, 0) \
    X("Agnès", 20, 8, 0) X("Marie-Christine", 15, 1, 0) X("Marie-Claude", 12, 0, 0) \
    X("Maryse", 15, 0, 0) X("Pascale", 15, 15, 0) X("Florence", 10, 30, 0) \
    X("Cécile", 10, 30, 2) X("Delphine", 2, 35, 0) X("Noémie", 0, 8, 15) \
    X("Salomé", 0, 3, 15) X("Elsa", 0, 5, 15) X("Léna", 0, 0, 20) \
    X("Yasmine", 0, 5, 10) X("Fatima", 5, 5, 1) X("Aïcha", 2, 3, 3) \
    X("Gabrielle", 2, 0, 12) X("Capucine", 0, 1, 8) X("Victoire", 0, 0, 10) \
    X("Adèle", 1, 0, 20) X("Héloïse", 0, 1, 10) X("Clémence", 0, 10, 15) \
    X("Bérénice", 0, 4, 5) X("Solène", 0, 8, 8) X("Maëva", 0, 6, 10) \
    X("Victoria", 0, 1, 8)

#define MALE_NAMES(X) \
    X("Jean", 80, 5, 5) X("Pierre", 50, 10, 8) X("Michel", 70, 2, 0) \
    X("André", 40, 0, 0) X("Philippe", 60, 20, 0) X("René", 30, 0, 0) \
    X("Louis", 15, 3, 40) X("Alain", 60, 1, 0) X("Jacques", 60, 1, 0) \
    X("Bernard", 55, 0, 0) X("Marcel", 20, 0, 2) X("Daniel", 50, 5, 1) \
    X("Roger", 25, 0, 0) X("Claude", 45, 0, 0) X("Paul", 15, 5, 30) \
    X("Robert", 25, 0, 0) X("Christian", 50, 10, 0) X("Henri", 20, 0, 5) \
    X("Georges", 20, 0, 2) X("Nicolas", 5, 60, 8) X("François", 40, 20, 3) \
    X("Patrick", 45, 15, 0) X("Gérard", 45, 0, 0) X("Christophe", 10, 55, 0) \
    X("Joseph", 20, 1, 3) X("Julien", 0, 55, 8) X("Laurent", 15, 50, 0) \
    X("Frédéric", 10, 50, 0) X("Éric", 25, 45, 0) X("Stéphane", 5, 55, 0) \
    X("David", 5, 50, 5) X("Pascal", 25, 35, 0) X("Sébastien", 0, 55, 2) \
    X("Thierry", 25, 35, 0) X("Alexandre", 2, 45, 20) X("Olivier", 10, 50, 1) \
    X("Thomas", 2, 45, 30) X("Antoine", 3, 25, 30) X("Dominique", 35, 3, 0) \
    X("Bruno", 20, 30, 0) X("Guillaume", 0, 45, 8) X("Jérôme", 3, 50, 0) \
    X("Didier", 30, 20, 0) X("Vincent", 5, 45, 5) X("Serge", 30, 3, 0) \
    X("Yves", 30, 1, 0) X("Jean-Pierre", 40, 1, 0) X("Jean-Claude", 40, 0, 0) \
    X("Jean-Luc", 25, 3, 0) X("Gilles", 25, 15, 0) X("Marc", 20, 20, 1) \
    X("Mathieu", 0, 40, 8) X("Maxime", 0, 30, 20) X("Romain", 0, 40, 12) \
    X("Anthony", 0, 35, 5) X("Kévin", 0, 35, 5) X("Cédric", 0, 35, 0) \
    X("Fabrice", 5, 40, 0) X("Benjamin", 0, 30, 15) X("Florian", 0, 30, 8) \
    X("Jonathan", 0, 25, 5) X("Damien", 0, 30, 3) X("Lucas", 0, 8, 45) \
    X("Hugo", 0, 5, 45) X("Théo", 0, 5, 45) X("Nathan", 0, 5, 45) \
    X("Léo", 0, 2, 50) X("Gabriel", 1, 2, 50) X("Raphaël", 0, 4, 40) \
    X("Arthur", 1, 1, 45) X("Jules", 1, 1, 40) X("Adam", 0, 1, 40) \
    X("Noah", 0, 0, 35) X("Ethan", 0, 0, 30) X("Tom", 0, 4, 30) \
    X("Enzo", 0, 1, 30) X("Mathis", 0, 1, 30) X("Clément", 0, 20, 20) \
    X("Baptiste", 0, 15, 20) X("Valentin", 0, 10, 20) X("Quentin", 0, 25, 15) \
    X("Victor", 2, 1, 30) X("Sacha", 0, 1, 25) X("Mohamed", 3, 10, 20) \
    X("Timéo", 0, 0, 20) X("Aurélien", 0, 30, 5) X("Xavier", 5, 25, 1) \
    X("Emmanuel", 8, 30, 1) X("Hervé", 25, 15, 0) X("Patrice", 25, 10, 0) \
    X("Denis", 25, 8, 0) X("Gaston", 10, 0, 0) X("Lucien", 15, 0, 3) \
    X("Maurice", 20, 0, 1) X("Raymond", 20, 0, 0) X("Guy", 25, 0, 0) \
    X("Jean-François", 25, 8, 0) X("Jean-Marc", 15, 5, 0) X("Franck", 5, 30, 0) \
    X("Ludovic", 0, 30, 0) X("Grégory", 0, 35, 0) X("Arnaud", 0, 30, 2) \
    X("Loïc", 0, 25, 3) X("Yann", 0, 20, 3) X("Martin", 1, 3, 20) \
    X("Axel", 0, 3, 20) X("Evan", 0, 0, 20) X("Samuel", 1, 10, 15) \
    X("Matthieu", 0, 20, 5) X("Noël", 10, 0, 0) X("Ahmed", 4, 5, 5)

/* Communes: X(INSEE code, postcode, city, weight). */
#define PLACES(X) \
    X("75111", "75011", "Paris", 15) X("75112", "75012", "Paris", 14) \
    X("75113", "75013", "Paris", 18) X("75114", "75014", "Paris", 14) \
    X("75115", "75015", "Paris", 23) X("75116", "75016", "Paris", 16) \
    X("75117", "75017", "Paris", 17) X("75118", "75018", "Paris", 19) \
    X("75119", "75019", "Paris", 19) X("75120", "75020", "Paris", 20) \
    X("13201", "13001", "Marseille", 4) X("13205", "13005", "Marseille", 5) \
    X("13208", "13008", "Marseille", 8) X("13213", "13013", "Marseille", 9) \
    X("13215", "13015", "Marseille", 8) X("69383", "69003", "Lyon", 10) \
    X("69387", "69007", "Lyon", 8) X("69388", "69008", "Lyon", 9) \
    X("31555", "31000", "Toulouse", 50) X("06088", "06000", "Nice", 34) \
    X("44109", "44000", "Nantes", 32) X("34172", "34000", "Montpellier", 30) \
    X("67482", "67000", "Strasbourg", 29) X("33063", "33000", "Bordeaux", 26) \
    X("59350", "59000", "Lille", 24) X("35238", "35000", "Rennes", 22) \
    X("51454", "51100", "Reims", 18) X("83137", "83000", "Toulon", 18) \
    X("42218", "42000", "Saint-Étienne", 17) X("76351", "76600", "Le Havre", 17) \
    X("38185", "38000", "Grenoble", 16) X("21231", "21000", "Dijon", 16) \
    X("49007", "49000", "Angers", 16) X("30189", "30000", "Nîmes", 15) \
    X("69266", "69100", "Villeurbanne", 15) X("63113", "63000", "Clermont-Ferrand", 15) \
    X("72181", "72000", "Le Mans", 14) X("13001", "13100", "Aix-en-Provence", 14) \
    X("29019", "29200", "Brest", 14) X("37261", "37000", "Tours", 14) \
    X("80021", "80000", "Amiens", 13) X("87085", "87000", "Limoges", 13) \
    X("74010", "74000", "Annecy", 13) X("66136", "66000", "Perpignan", 12) \
    X("92012", "92100", "Boulogne-Billancourt", 12) X("57463", "57000", "Metz", 12) \
    X("25056", "25000", "Besançon", 12) X("45234", "45000", "Orléans", 12) \
    X("76540", "76000", "Rouen", 11) X("68224", "68100", "Mulhouse", 11) \
    X("14118", "14000", "Caen", 11) X("54395", "54000", "Nancy", 10) \
    X("95018", "95100", "Argenteuil", 11) X("93048", "93100", "Montreuil", 11) \
    X("93066", "93200", "Saint-Denis", 11) X("59512", "59100", "Roubaix", 10) \
    X("59599", "59200", "Tourcoing", 10) X("84007", "84000", "Avignon", 9) \
    X("86194", "86000", "Poitiers", 9) X("64445", "64000", "Pau", 8) \
    X("17300", "17000", "La Rochelle", 8) X("94028", "94000", "Créteil", 9) \
    X("78646", "78000", "Versailles", 8) X("92050", "92000", "Nanterre", 10) \
    X("68066", "68000", "Colmar", 7) X("29232", "29000", "Quimper", 6) \
    X("26362", "26000", "Valence", 6) X("10387", "10000", "Troyes", 6) \
    X("73065", "73000", "Chambéry", 6) X("79191", "79000", "Niort", 6) \
    X("56121", "56100", "Lorient", 6) X("56260", "56000", "Vannes", 5) \
    X("35288", "35400", "Saint-Malo", 5) X("64102", "64100", "Bayonne", 5) \
    X("50129", "50100", "Cherbourg-en-Cotentin", 8) X("53130", "53000", "Laval", 5) \
    X("27229", "27000", "Évreux", 5) X("28085", "28000", "Chartres", 4) \
    X("41018", "41000", "Blois", 5) X("18033", "18000", "Bourges", 6) \
    X("89024", "89000", "Auxerre", 3) X("58194", "58000", "Nevers", 3) \
    X("24322", "24000", "Périgueux", 3) X("47001", "47000", "Agen", 3) \
    X("81004", "81000", "Albi", 5) X("12202", "12000", "Rodez", 2) \
    X("65440", "65000", "Tarbes", 4) X("34032", "34500", "Béziers", 8) \
    X("11069", "11000", "Carcassonne", 5) X("05061", "05000", "Gap", 4) \
    X("04070", "04000", "Digne-les-Bains", 2) X("62041", "62000", "Arras", 4) \
    X("62193", "62100", "Calais", 7) X("59183", "59140", "Dunkerque", 9) \
    X("59606", "59300", "Valenciennes", 4) X("02691", "02100", "Saint-Quentin", 5) \
    X("60057", "60000", "Beauvais", 6) X("60159", "60200", "Compiègne", 4) \
    X("08105", "08000", "Charleville-Mézières", 5) X("88160", "88000", "Épinal", 3) \
    X("90010", "90000", "Belfort", 5) X("71270", "71000", "Mâcon", 3) \
    X("01053", "01000", "Bourg-en-Bresse", 4) X("03310", "03200", "Vichy", 3) \
    X("15014", "15000", "Aurillac", 3) X("43157", "43000", "Le Puy-en-Velay", 2) \
    X("48095", "48000", "Mende", 1) X("82121", "82000", "Montauban", 6) \
    X("46042", "46000", "Cahors", 2) X("32013", "32000", "Auch", 2) \
    X("40192", "40000", "Mont-de-Marsan", 3) X("09122", "09000", "Foix", 1) \
    X("36044", "36000", "Châteauroux", 4) X("23096", "23000", "Guéret", 1) \
    X("19272", "19000", "Tulle", 1) X("16015", "16000", "Angoulême", 4) \
    X("85191", "85000", "La Roche-sur-Yon", 6) X("22278", "22000", "Saint-Brieuc", 4) \
    X("61001", "61000", "Alençon", 3) X("50502", "50000", "Saint-Lô", 2) \
    X("77288", "77000", "Melun", 4) X("91228", "91000", "Évry-Courcouronnes", 7) \
    X("95127", "95000", "Cergy", 7) X("93008", "93000", "Bobigny", 5) \
    X("94081", "94400", "Vitry-sur-Seine", 9) X("07186", "07000", "Privas", 1) \
    X("06029", "06400", "Cannes", 7) X("06004", "06600", "Antibes", 7) \
    X("83061", "83600", "Fréjus", 5) X("13004", "13200", "Arles", 5) \
    X("34301", "34200", "Sète", 4) X("11262", "11100", "Narbonne", 5) \
    X("51108", "51000", "Châlons-en-Champagne", 4) X("52121", "52000", "Chaumont", 2) \
    X("70550", "70000", "Vesoul", 1) X("39300", "39000", "Lons-le-Saunier", 2) \
    X("74281", "74200", "Thonon-les-Bains", 4) X("44184", "44600", "Saint-Nazaire", 7) \
    X("49099", "49300", "Cholet", 5) X("2A004", "20000", "Ajaccio", 7) \
    X("2A247", "20137", "Porto-Vecchio", 2) X("2B033", "20200", "Bastia", 5) \
    X("2B096", "20250", "Corte", 1) X("2B050", "20260", "Calvi", 1) \
    X("97120", "97110", "Pointe-à-Pitre", 2) X("97101", "97139", "Les Abymes", 5) \
    X("97209", "97200", "Fort-de-France", 8) X("97213", "97232", "Le Lamentin", 4) \
    X("97302", "97300", "Cayenne", 6) X("97411", "97400", "Saint-Denis", 15) \
    X("97416", "97410", "Saint-Pierre", 8) X("97415", "97460", "Saint-Paul", 10) \
    X("97422", "97430", "Le Tampon", 8) X("97611", "97600", "Mamoudzou", 7) \
    X("97502", "97500", "Saint-Pierre", 1)

/* Countries of birth: X(INSEE country code, weight). Maroc, Algérie, Tunisie, Portugal,
 * Italie, Espagne, Belgique, Allemagne, Sénégal, Turquie, Viêt Nam, Roumanie, Pologne, Mali,
 * Côte d'Ivoire, Cameroun. */
#define COUNTRIES(X) \
    X("350", 30) X("352", 35) X("351", 15) X("139", 25) X("127", 12) X("134", 12) \
    X("131", 6) X("109", 6) X("341", 6) X("208", 8) X("243", 4) X("114", 5) \
    X("122", 3) X("335", 5) X("326", 5) X("322", 4)
/* clang-format on */

static const char *const last_names[] = {LAST_NAMES(NAME)};
static const uint16_t last_weights[] = {LAST_NAMES(WEIGHT)};
const struct tp_pop_table tp_pop_last_names = {last_names, last_weights,
                                               (int)(sizeof last_weights / sizeof last_weights[0]),
                                               0 LAST_NAMES(SUM)};

#define FNAME(n, a, b, c) n,
#define FW0(n, a, b, c) a,
#define FW1(n, a, b, c) b,
#define FW2(n, a, b, c) c,
#define FS0(n, a, b, c) +(a)
#define FS1(n, a, b, c) +(b)
#define FS2(n, a, b, c) +(c)

static const char *const female_names[] = {FEMALE_NAMES(FNAME)};
static const uint16_t female_w0[] = {FEMALE_NAMES(FW0)};
static const uint16_t female_w1[] = {FEMALE_NAMES(FW1)};
static const uint16_t female_w2[] = {FEMALE_NAMES(FW2)};
#define N_FEMALE ((int)(sizeof female_w0 / sizeof female_w0[0]))
const struct tp_pop_table tp_pop_female_names[TP_POP_GENERATIONS] = {
    {female_names, female_w0, N_FEMALE, 0 FEMALE_NAMES(FS0)},
    {female_names, female_w1, N_FEMALE, 0 FEMALE_NAMES(FS1)},
    {female_names, female_w2, N_FEMALE, 0 FEMALE_NAMES(FS2)},
};

static const char *const male_names[] = {MALE_NAMES(FNAME)};
static const uint16_t male_w0[] = {MALE_NAMES(FW0)};
static const uint16_t male_w1[] = {MALE_NAMES(FW1)};
static const uint16_t male_w2[] = {MALE_NAMES(FW2)};
#define N_MALE ((int)(sizeof male_w0 / sizeof male_w0[0]))
const struct tp_pop_table tp_pop_male_names[TP_POP_GENERATIONS] = {
    {male_names, male_w0, N_MALE, 0 MALE_NAMES(FS0)},
    {male_names, male_w1, N_MALE, 0 MALE_NAMES(FS1)},
    {male_names, male_w2, N_MALE, 0 MALE_NAMES(FS2)},
};

int tp_pop_generation(int birth_year)
{
    return birth_year < 1970 ? 0 : birth_year < 2000 ? 1 : 2;
}

#define PLACE(code, post, city, w) {code, post, city},
#define PW(code, post, city, w) w,
#define PS(code, post, city, w) +(w)
const struct tp_pop_place tp_pop_places[] = {PLACES(PLACE)};
static const uint16_t place_weights[] = {PLACES(PW)};
const struct tp_pop_table tp_pop_place_table = {
    NULL, place_weights, (int)(sizeof place_weights / sizeof place_weights[0]), 0 PLACES(PS)};

static const char *const country_codes[] = {COUNTRIES(NAME)};
static const uint16_t country_weights[] = {COUNTRIES(WEIGHT)};
const struct tp_pop_table tp_pop_countries = {
    country_codes, country_weights, (int)(sizeof country_weights / sizeof country_weights[0]),
    0 COUNTRIES(SUM)};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

const char *const tp_pop_streets[] = {
    "rue de la République", "avenue Jean Jaurès",
    "rue Victor Hugo",      "place de la Mairie",
    "boulevard Gambetta",   "rue Pasteur",
    "rue de l'Église",      "avenue du Général de Gaulle",
    "rue des Écoles",       "rue du Moulin",
    "chemin des Vignes",    "allée des Tilleuls",
    "rue Émile Zola",       "rue Jules Ferry",
    "avenue Foch",          "rue Nationale",
    "rue de la Gare",       "place du Marché",
    "rue du Château",       "impasse des Lilas",
    "rue Saint-Martin",     "rue Carnot",
    "rue Voltaire",         "boulevard de la Liberté",
    "rue Anatole France",   "rue des Acacias",
    "rue de Verdun",        "avenue de la Libération",
    "rue Aristide Briand",  "rue du Stade",
    "rue de la Paix",       "rue des Jardins",
    "route de Paris",       "rue Pierre et Marie Curie",
    "rue du 8 Mai 1945",    "rue du 11 Novembre",
    "rue Léon Blum",        "rue Jean Moulin",
    "rue des Peupliers",    "avenue de la Gare",
    "quai des Bateliers",   "rue de la Fontaine",
    "rue des Prés",         "cours Lafayette",
    "rue Danton",           "rue Gustave Eiffel",
    "rue des Coquelicots",  "place de l'Hôtel de Ville",
};
const int tp_pop_street_count = COUNT(tp_pop_streets);

const char *const tp_pop_pharmacy_names[] = {
    "du Marché",
    "de la Gare",
    "Centrale",
    "des Halles",
    "du Centre",
    "de l'Église",
    "Saint-Michel",
    "des Écoles",
    "du Port",
    "de la Mairie",
    "des Arcades",
    "du Parc",
    "de la Poste",
    "du Soleil",
    "des Tilleuls",
    "de la Cathédrale",
    "du Château",
    "des Remparts",
    "du Lac",
    "de la Place",
    "Principale",
    "de la Fontaine",
    "du Rond-Point",
    "des Quatre Chemins",
    "de l'Hôtel de Ville",
    "du Pont",
    "des Platanes",
    "de la Liberté",
};
const int tp_pop_pharmacy_name_count = COUNT(tp_pop_pharmacy_names);

const char *const tp_pop_optician_names[] = {
    "Lafayette", "du Centre", "des Halles", "Vision", "Saint-Jean",  "de la Gare",  "Clair Regard",
    "Horizon",   "Panorama",  "Lumière",    "Iris",   "Regard Plus", "des Arcades", "du Marché",
};
const int tp_pop_optician_name_count = COUNT(tp_pop_optician_names);

const char *const tp_pop_audio_names[] = {
    "Audition Conseil", "Écoute Plus", "Audio Santé",   "Entendre Mieux", "Clair Audition",
    "Audio Harmonie",   "Son et Vie",  "Audition Plus", "L'Oreille d'Or", "Acoustique Centre",
};
const int tp_pop_audio_name_count = COUNT(tp_pop_audio_names);

const char *const tp_pop_clinic_names[] = {
    "Saint-Joseph", "du Parc",      "des Cèdres",        "Sainte-Anne",   "de l'Espérance",
    "Pasteur",      "des Jasmins",  "Saint-Roch",        "du Val",        "Bon Secours",
    "des Lilas",    "Sainte-Marie", "du Pont de Chaume", "des Peupliers",
};
const int tp_pop_clinic_name_count = COUNT(tp_pop_clinic_names);

const struct tp_pop_bank tp_pop_banks[] = {
    {"30004", "BNPAFRPPXXX"}, {"30003", "SOGEFRPP"},    {"30002", "CRLYFRPP"},
    {"20041", "PSSTFRPPPAR"}, {"10278", "CMCIFR2A"},    {"30066", "CMCIFRPP"},
    {"10107", "BREDFRPPXXX"}, {"18206", "AGRIFRPP882"}, {"11315", "CEPAFRPP131"},
    {"30056", "CCFRFRPP"},    {"42559", "CCOPFRPPXXX"}, {"13507", "CCBPFRPPLIL"},
    {"17515", "CEPAFRPP751"}, {"16006", "AGRIFRPP860"}, {"30076", "NORDFRPP"},
    {"12548", "AXABFRPP"},
};
const int tp_pop_bank_count = COUNT(tp_pop_banks);

const struct tp_pop_amc_name tp_pop_amc_names[] = {
    {TP_POP_MUTUELLE, "Mutuelle des Cheminots du Sud-Ouest"},
    {TP_POP_MUTUELLE, "Mutuelle Familiale de Bretagne"},
    {TP_POP_MUTUELLE, "Mutuelle Générale des Territoires"},
    {TP_POP_MUTUELLE, "Mutuelle des Enseignants de l'Ouest"},
    {TP_POP_MUTUELLE, "Mutuelle Santé Provence Alpes"},
    {TP_POP_MUTUELLE, "Mutuelle du Personnel Hospitalier"},
    {TP_POP_MUTUELLE, "Mutuelle Nationale des Artisans"},
    {TP_POP_MUTUELLE, "Mutuelle Alsace Lorraine Santé"},
    {TP_POP_MUTUELLE, "Mutuelle des Marins de l'Atlantique"},
    {TP_POP_MUTUELLE, "Mutuelle de la Fonction Publique Territoriale"},
    {TP_POP_MUTUELLE, "Mutuelle Solidaire d'Auvergne"},
    {TP_POP_MUTUELLE, "Mutuelle du Val de Loire"},
    {TP_POP_MUTUELLE, "Mutuelle Interprofessionnelle du Nord"},
    {TP_POP_MUTUELLE, "Mutuelle des Agents de l'Énergie"},
    {TP_POP_MUTUELLE, "Mutuelle Santé Île-de-France"},
    {TP_POP_MUTUELLE, "Mutuelle des Professions Libérales"},
    {TP_POP_MUTUELLE, "Mutuelle Agricole du Centre"},
    {TP_POP_MUTUELLE, "Mutuelle Normande de Prévoyance"},
    {TP_POP_MUTUELLE, "Mutuelle Pyrénées Santé"},
    {TP_POP_MUTUELLE, "Mutuelle Rhône-Alpes Solidarité"},
    {TP_POP_MUTUELLE, "Mutuelle des Étudiants et Jeunes Actifs"},
    {TP_POP_MUTUELLE, "Mutuelle Bourgogne Franche-Comté"},
    {TP_POP_MUTUELLE, "Mutuelle des Transports Urbains"},
    {TP_POP_MUTUELLE, "Mutuelle Océan Indien Santé"},
    {TP_POP_MUTUELLE, "Mutuelle Antilles-Guyane"},
    {TP_POP_MUTUELLE, "Mutuelle Corse Santé"},
    {TP_POP_MUTUELLE, "Mutuelle des Postiers et des Télécoms"},
    {TP_POP_MUTUELLE, "Mutuelle Champagne-Ardenne"},
    {TP_POP_MUTUELLE, "Mutuelle Picarde"},
    {TP_POP_MUTUELLE, "Mutuelle Limousine"},
    {TP_POP_MUTUELLE, "Mutuelle du Bâtiment et des Travaux Publics"},
    {TP_POP_MUTUELLE, "Mutuelle Générale de l'Aveyron"},
    {TP_POP_MUTUELLE, "Mutuelle Savoie Mont-Blanc"},
    {TP_POP_MUTUELLE, "Mutuelle des Personnels de la Justice"},
    {TP_POP_MUTUELLE, "Mutuelle Charentaise"},
    {TP_POP_MUTUELLE, "Mutuelle Vendéenne"},
    {TP_POP_MUTUELLE, "Mutuelle du Pays Basque"},
    {TP_POP_MUTUELLE, "Mutuelle Lorraine des Mineurs"},
    {TP_POP_MUTUELLE, "Mutuelle des Gens de Mer"},
    {TP_POP_MUTUELLE, "Mutuelle Occitane"},
    {TP_POP_MUTUELLE, "Mutuelle de l'Artisanat et du Commerce"},
    {TP_POP_MUTUELLE, "Mutuelle des Sapeurs-Pompiers"},
    {TP_POP_MUTUELLE, "Mutuelle Santé Touraine"},
    {TP_POP_MUTUELLE, "Mutuelle Gironde Prévoyance"},
    {TP_POP_MUTUELLE, "Mutuelle Dauphinoise"},
    {TP_POP_MUTUELLE, "Mutuelle des Employés de Banque"},
    {TP_POP_MUTUELLE, "Mutuelle du Cantal"},
    {TP_POP_MUTUELLE, "Mutuelle Armoricaine"},
    {TP_POP_MUTUELLE, "Mutuelle Ardéchoise"},
    {TP_POP_MUTUELLE, "Mutuelle Mosellane"},
    {TP_POP_MUTUELLE, "Mutuelle des Métiers de la Culture"},
    {TP_POP_MUTUELLE, "Mutuelle Landaise"},
    {TP_POP_MUTUELLE, "Mutuelle de la Côte d'Azur"},
    {TP_POP_MUTUELLE, "Mutuelle Berrichonne"},
    {TP_POP_MUTUELLE, "Mutuelle Solidarité Seniors"},
    {TP_POP_MUTUELLE, "Mutuelle des Pharmaciens et Biologistes"},
    {TP_POP_MUTUELLE, "Mutuelle du Grand Est"},
    {TP_POP_MUTUELLE, "Mutuelle Flandres Artois"},
    {TP_POP_MUTUELLE, "Mutuelle des Viticulteurs"},
    {TP_POP_MUTUELLE, "Mutuelle Angevine"},
    {TP_POP_INSTITUTION, "Institution de prévoyance des Salariés de l'Industrie"},
    {TP_POP_INSTITUTION, "Institution de prévoyance du Commerce et de la Distribution"},
    {TP_POP_INSTITUTION, "Institution de prévoyance des Industries Chimiques"},
    {TP_POP_INSTITUTION, "Institution de prévoyance de la Métallurgie"},
    {TP_POP_INSTITUTION, "Institution de prévoyance du Transport et de la Logistique"},
    {TP_POP_INSTITUTION, "Institution de prévoyance de l'Hôtellerie-Restauration"},
    {TP_POP_INSTITUTION, "Institution de prévoyance des Industries Agroalimentaires"},
    {TP_POP_INSTITUTION, "Institution de prévoyance du Bâtiment"},
    {TP_POP_INSTITUTION, "Institution de prévoyance des Cadres et Ingénieurs"},
    {TP_POP_INSTITUTION, "Institution de prévoyance de la Propreté"},
    {TP_POP_INSTITUTION, "Institution de prévoyance des Services à la Personne"},
    {TP_POP_INSTITUTION, "Institution de prévoyance de l'Imprimerie et de la Presse"},
    {TP_POP_INSTITUTION, "Institution de prévoyance de la Plasturgie"},
    {TP_POP_INSTITUTION, "Institution de prévoyance du Textile et de l'Habillement"},
    {TP_POP_INSTITUTION, "Institution de prévoyance de l'Aéronautique"},
    {TP_POP_INSTITUTION, "Institution de prévoyance des Commerces de Gros"},
    {TP_POP_ASSUREUR, "Atlantique Assurances"},
    {TP_POP_ASSUREUR, "Hexagone Santé Assurances"},
    {TP_POP_ASSUREUR, "Boréal Assurances"},
    {TP_POP_ASSUREUR, "Garonne Assurances"},
    {TP_POP_ASSUREUR, "Vauban Assurances"},
    {TP_POP_ASSUREUR, "Lumière Assurances"},
    {TP_POP_ASSUREUR, "Cévennes Assurances"},
    {TP_POP_ASSUREUR, "Horizon Assurances"},
    {TP_POP_ASSUREUR, "Séquoia Assurances"},
    {TP_POP_ASSUREUR, "Alliance Rhénane Assurances"},
    {TP_POP_ASSUREUR, "Méridienne Assurances"},
    {TP_POP_ASSUREUR, "Astrée Assurances"},
    {TP_POP_ASSUREUR, "Orion Santé Assurances"},
    {TP_POP_ASSUREUR, "Colbert Assurances"},
    {TP_POP_ASSUREUR, "Armor Assurances"},
    {TP_POP_ASSUREUR, "Dauphiné Assurances"},
};
const int tp_pop_amc_name_count = COUNT(tp_pop_amc_names);

const char *const tp_pop_contract_names[5] = {
    "Santé Essentiel", "Santé Équilibre", "Santé Confort", "Santé Renfort", "Santé Excellence",
};
